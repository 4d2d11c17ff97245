import Foundation

/// How fewshot writes an epsilon in JSON, everywhere (store, `fewshot gen` output, admin API): a
/// number when finite, else the string "inf" (the no-noise baseline; JSON has no infinity).
public enum EpsilonJSON {
    public static let encoding = JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    public static let decoding = JSONDecoder.NonConformingFloatDecodingStrategy.convertFromString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
}
