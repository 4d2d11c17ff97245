import GRDB

/// Where a generation stands in the ledger; both stores keep it as this raw value in a checked column.
/// A `failed` generation still holds its reservation and can be resumed or abandoned; `running` is
/// owned by a live process (a PID on this host, a lease across hosts).
public enum GenerationStatus: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case running
    case failed
    case completed
    case abandoned

    public var description: String { rawValue }
}

extension GenerationStatus: DatabaseValueConvertible {}
