import Dispatch

/// Runs the remove- and add-direction computations on two threads (they are independent and
/// equally expensive), returning both results.
enum BothDirections {
    private final class Results<A, B>: @unchecked Sendable {
        var a: A?
        var b: B?
    }

    static func run<A, B>(_ first: () -> A, _ second: () -> B) -> (A, B) {
        let results = Results<A, B>()
        withoutActuallyEscaping(first) { first in
            withoutActuallyEscaping(second) { second in
                let work = UnsafeWork(first: first, second: second, results: results)
                DispatchQueue.concurrentPerform(iterations: 2) { i in work.run(i) }
            }
        }
        return (results.a!, results.b!)
    }

    // Each index writes only its own slot, and concurrentPerform returns after both finish.
    private struct UnsafeWork<A, B>: @unchecked Sendable {
        let first: () -> A
        let second: () -> B
        let results: Results<A, B>
        func run(_ i: Int) {
            if i == 0 { results.a = first() } else { results.b = second() }
        }
    }
}
