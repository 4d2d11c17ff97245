import Crypto
import Foundation
import GRDB

/// The store's secret key for data set ids, and the ids it makes.
///
/// A data set's fingerprint is the SHA-256 of its content: someone who knows every example but one
/// could test guesses of the last one against it. So the fingerprint never leaves the store (it is the
/// ledger's own lookup key); what is shown and published (JSONL privacy records, exports, the admin
/// API, listings, metrics labels, logs) is the *public id*, HMAC-SHA256(store secret, fingerprint).
/// Without the secret the public id reveals nothing about the content.
///
/// Guarantees: the secret is 32 bytes from a cryptographically secure generator, created once per
/// store (by the migration that introduced it, so older stores get one on their first open) and
/// never shown; a data set's public id never changes within its store.
package struct DatasetKey: Sendable {
    package static let byteCount = 32
    let key: SymmetricKey

    /// The key of a store whose secret is `secret`; throws if it is not ``byteCount`` bytes.
    package init(secret: Data) throws {
        guard secret.count == Self.byteCount else { throw StoreError.damagedSecret }
        key = SymmetricKey(data: secret)
    }

    /// 32 fresh bytes from the system's secure generator (swift-crypto: BoringSSL's RAND_bytes).
    package static func generateSecret() -> Data {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
    }

    /// The store's key; throws if the secret is missing or damaged rather than make ids without it.
    static func read(_ db: Database) throws -> DatasetKey {
        guard let secret = try Data.fetchOne(db, sql: "SELECT secret FROM store_secret WHERE id = 1") else { throw StoreError.damagedSecret }
        return try DatasetKey(secret: secret)
    }

    /// Lowercase hexadecimal HMAC-SHA256 of the fingerprint under the store's secret.
    package func publicID(fingerprint: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(fingerprint.utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }
}

extension FewShotStore {
    /// The id under which the data set with this (internal) fingerprint is shown outside the store.
    /// See ``DatasetRecord/publicID``.
    public func publicDatasetID(fingerprint: String) -> String {
        datasetKey.publicID(fingerprint: fingerprint)
    }
}
