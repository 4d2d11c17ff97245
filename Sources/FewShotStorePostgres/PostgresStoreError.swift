import Foundation

/// Errors of the PostgreSQL store that the SQLite store has no counterpart for. Messages name the
/// problem and the fix, and never contain a password or private example text.
public enum PostgresStoreError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The store URL carries a password (shown redacted).
    case passwordInURL(String)
    case invalidURL(String)
    /// The server could not be reached or refused the connection (authentication, missing database).
    case unreachable(location: String, reason: String)
    /// The server reported an error (its message, and its SQLSTATE code).
    case server(message: String, code: String)
    /// The database holds a schema version this fewshot does not know.
    case newerSchema(location: String, version: Int)
    /// `fewshot store migrate` only fills a store that holds no data set yet.
    case targetNotEmpty(location: String, datasets: Int)
    /// A column holds a value outside its type's (the schema's checks should make this impossible).
    case unexpectedValue(column: String, value: String)

    public var description: String {
        switch self {
        case let .passwordInURL(url):
            return "the store URL \(url) contains a password; remove it from the URL and put it in the environment "
                + "variable PGPASSWORD instead (a password on the command line ends up in shell history, process listings and logs)"
        case let .invalidURL(reason):
            return "invalid PostgreSQL store URL: \(reason)"
        case let .unreachable(location, reason):
            return "cannot open the PostgreSQL store \(location): \(reason). Check the URL given with --store or FEWSHOT_STORE, "
                + "that the server runs, and that PGPASSWORD holds the user's password"
        case let .server(message, code):
            return "PostgreSQL error \(code): \(message)"
        case let .newerSchema(location, version):
            return "the PostgreSQL store \(location) has schema version \(version), written by a newer fewshot; upgrade fewshot to use it"
        case let .targetNotEmpty(location, datasets):
            return "the PostgreSQL store \(location) already holds \(datasets) data sets; a store is moved only into an empty one "
                + "(give another database, or another schema with ?schema=NAME)"
        case let .unexpectedValue(column, value):
            return "the PostgreSQL store holds '\(value)' in column \(column), which this fewshot does not know; was the schema changed by hand?"
        }
    }

    public var errorDescription: String? { description }
}
