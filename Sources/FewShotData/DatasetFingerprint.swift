import Crypto
import FewShotCore
import Foundation

/// The identity of a private data set for the ledger: SHA-256 over its normalised content, so that
/// the same examples in another order, file format or line ending have the same fingerprint and
/// share one privacy budget. Normalisation: Unicode NFC, surrounding whitespace trimmed, examples
/// sorted by (label, text, answer), each encoded as its label and text lengths and bytes, then (extraction
/// examples only) its answer's length and bytes, so classification fingerprints are unchanged.
public enum DatasetFingerprint {
    public static func of(_ examples: [LabeledExample]) -> String {
        let normalised = examples.map { (
            label: $0.label.precomposedStringWithCanonicalMapping,
            text: $0.text.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping,
            answer: $0.answer.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping }
        ) }
            .sorted { ($0.label, $0.text, $0.answer ?? "") < ($1.label, $1.text, $1.answer ?? "") }
        var hasher = SHA256()
        for example in normalised {
            for field in [example.label, example.text] + (example.answer.map { [$0] } ?? []) {
                let bytes = Array(field.utf8)
                withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { hasher.update(bufferPointer: $0) }
                hasher.update(data: bytes)
            }
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
