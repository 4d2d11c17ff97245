import Foundation

/// Where a PostgreSQL store is: `postgres://USER@HOST:PORT/DATABASE` (or `postgresql://`), with optional
/// query parameters `schema=NAME` (the tables' schema, created if absent; default `public`),
/// `sslmode=disable|prefer|require` (default `prefer`) and `lease_seconds=N` (how long a generation's
/// owner may go without a heartbeat before it is presumed dead; default 30).
///
/// Guarantees: a URL that carries a password is refused (``PostgresStoreError/passwordInURL``), so a
/// password never sits on a command line, in shell history, a process listing or a log; the password
/// comes from the environment (`PGPASSWORD`). ``description`` never contains a password.
public struct PostgresStoreAddress: Sendable, Hashable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Hashable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var schema: String?
    public var tls: TLSMode
    public var leaseSeconds: Int

    /// Whether `text` names a PostgreSQL store rather than an SQLite file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(url text: String) throws {
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw PostgresStoreError.invalidURL("'\(Self.redacted(text))' is not a postgres://USER@HOST:PORT/DATABASE URL")
        }
        if components.password != nil {
            throw PostgresStoreError.passwordInURL(Self.redacted(text))
        }
        guard let user = components.user, !user.isEmpty else {
            throw PostgresStoreError.invalidURL("'\(text)' names no user: write postgres://USER@HOST:PORT/DATABASE")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresStoreError.invalidURL("'\(text)' names no host: write postgres://USER@HOST:PORT/DATABASE")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresStoreError.invalidURL("'\(text)' names no database: write postgres://USER@HOST:PORT/DATABASE")
        }
        self.user = user.removingPercentEncoding ?? user
        self.host = host
        self.port = components.port ?? 5432
        self.database = database
        schema = nil
        tls = .prefer
        leaseSeconds = 30
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "schema":
                guard value.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
                    throw PostgresStoreError.invalidURL("schema '\(value)' must be lowercase letters, digits and _ (at most 63)")
                }
                schema = value
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw PostgresStoreError.invalidURL("sslmode '\(value)' is not one of disable, prefer, require")
                }
                tls = mode
            case "lease_seconds":
                guard let seconds = Int(value), (1...3600).contains(seconds) else {
                    throw PostgresStoreError.invalidURL("lease_seconds '\(value)' is not a whole number of seconds in 1...3600")
                }
                leaseSeconds = seconds
            default:
                throw PostgresStoreError.invalidURL("unknown parameter '\(item.name)' (known: schema, sslmode, lease_seconds)")
            }
        }
    }

    public var description: String {
        var query: [String] = []
        if let schema { query.append("schema=\(schema)") }
        if tls != .prefer { query.append("sslmode=\(tls.rawValue)") }
        if leaseSeconds != 30 { query.append("lease_seconds=\(leaseSeconds)") }
        return "postgres://\(user)@\(host):\(port)/\(database)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// `text` with anything between `://` and `@` after the first `:` replaced, for error messages.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}
