import Foundation
import Testing
@testable import LocalLLM
#if canImport(Glibc)
import Glibc
#endif

@Suite struct FreePortTests {
    /// Listens on 127.0.0.1:`port` (0 = any) and returns the socket and the bound port.
    func listen(on port: Int) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && Glibc.listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(ok, "could not listen on port \(port)")
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func findsAPortNothingListensOn() throws {
        let port = try FreePort.find()
        #expect((1024...65535).contains(port))
        #expect(FreePort.isFree(port))
        let listener = try listen(on: port)  // proves the port really was free
        close(listener.fd)
    }

    @Test func seesAListeningPortAsTaken() throws {
        let listener = try listen(on: 0)
        defer { close(listener.fd) }
        #expect(!FreePort.isFree(listener.port))
    }

    @Test func startRefusesAPortInUse() async throws {
        let listener = try listen(on: 0)
        defer { close(listener.fd) }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try FakeLlamaServer(copying: "/bin/sleep")
        defer { fake.directory.remove() }
        let options = LlamaServerOptions(
            serverBinary: fake.binary, model: try writeFakeGGUF(in: dir.url), port: listener.port)
        await #expect(throws: LocalLLMError.portInUse(port: listener.port)) {
            try await LocalLLMServer(paths: LocalLLMPaths(cacheDirectory: dir.url)).start(options)
        }
    }
}
