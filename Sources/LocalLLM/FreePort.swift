import Foundation
#if canImport(Glibc)
import Glibc
private let systemBind = Glibc.bind
#elseif canImport(Darwin)
import Darwin
private let systemBind = Darwin.bind
#endif

/// Finding and checking TCP ports on 127.0.0.1.
public enum FreePort {
    /// A port the kernel reports free right now (bind to port 0, read it back, release it).
    public static func find() throws -> Int {
        guard let port = bind(port: 0) else { throw LocalLLMError.portInUse(port: 0) }
        return port
    }

    /// Whether nothing listens on (or holds) `port` on 127.0.0.1.
    public static func isFree(_ port: Int) -> Bool { bind(port: port) != nil }

    private static func bind(port: Int) -> Int? {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                systemBind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
