import FewShotCore
import Foundation
import Synchronization

/// One self-overwriting progress line on stderr: demonstration, token, LLM calls/s, elapsed, ETA.
/// Prints nothing about content, so private text cannot reach the terminal through it.
final class ProgressBar: Sendable {
    private let lastDraw = Mutex((time: ContinuousClock.now - .seconds(1), demonstration: -1))
    private let interactive = isatty(STDERR_FILENO) != 0

    /// Interactive: redrawn at most every 100 ms. Otherwise (a log, a pipe): one line as each
    /// demonstration releases its first token, which says the ones before it are finished.
    func update(_ p: GenerationProgress) {
        lastDraw.withLock { lastDraw in
            let now = ContinuousClock.now
            let done = p.step >= p.maxTokens
            let due = interactive
                ? now - lastDraw.time >= .milliseconds(100) || done
                : p.step >= 1 && p.demonstration != lastDraw.demonstration
            guard due else { return }
            lastDraw = (now, p.demonstration)
            let seconds = p.elapsed / .seconds(1)
            // ETA assumes every remaining demonstration runs its full T tokens (an upper bound).
            let totalSteps = p.demonstrations * p.maxTokens
            let doneSteps = p.demonstration * p.maxTokens + p.step
            let eta = doneSteps > 0 ? seconds / Double(doneSteps) * Double(totalSteps - doneSteps) : 0
            let width = 20
            let filled = min(width, width * doneSteps / max(totalSteps, 1))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let line = String(
                format: "[%@] demo %d/%d token %d/%d  %.1f calls/s  %@ elapsed  ETA <= %@",
                bar, p.demonstration + 1, p.demonstrations, p.step, p.maxTokens,
                seconds > 0 ? Double(p.llmCalls) / seconds : 0, Self.clock(seconds), Self.clock(eta))
            FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
        }
    }

    func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d", s / 60, s % 60)
    }
}
