import Foundation

/// Where each CSV record starts, and the first quoting problem, found by following SwiftCSV 0.10's
/// own grammar (its `ParsingState`) over the text with a line counter.
///
/// SwiftCSV parses the fields but cannot say on which line a record starts (a quoted field may hold
/// newlines), does not report a quote left open (it reads the rest of the file into that field), and
/// its parse error quotes a character of the file. This scan gives what it lacks, and nothing else:
/// the fields themselves still come from SwiftCSV.
///
/// Guarantee: a problem names a line and a column index, never content. Only the header row's
/// fields (column names) are kept.
struct CSVRecordLines {
    /// The line (1-based) each record starts on; record 0 is the header.
    var recordStartLines: [Int] = []
    /// The header's column names (trimmed).
    var header: [String] = []
    /// The first problem: the line, the index of the field (column) and what to do.
    var problem: (line: Int, fieldIndex: Int, problem: String)?

    init(_ text: String, delimiter: Character = ",") {
        self = Self.scan(text, delimiter: delimiter)
    }

    private init() {}

    private static func scan(_ text: String, delimiter: Character) -> CSVRecordLines {
        var result = CSVRecordLines()
        var recordStartLines = [1]
        var header: [String] = []
        var line = 1
        var atStart = true, parsingField = false, parsingQuotes = false, innerQuotes = false
        var fieldIndex = 0, quoteLine = 1, quoteField = 0
        var recordHasContent = false
        var recordIndex = 0
        var headerField = ""

        func finishField() {
            if recordIndex == 0 { header.append(headerField.trimmingCharacters(in: .whitespaces)) }
            headerField = ""
            fieldIndex += 1
            recordHasContent = true
        }
        func append(_ char: Character) {
            if recordIndex == 0 { headerField.append(char) }
            recordHasContent = true
        }
        func finishRow(nextLine: Int) {
            finishField()
            recordIndex += 1
            fieldIndex = 0
            recordHasContent = false
            recordStartLines.append(nextLine)
        }
        func fail(_ what: String) -> CSVRecordLines {
            result.problem = (line, fieldIndex, what)
            result.header = header
            return result
        }
        let strayQuote = "a quote inside a field that is not quoted as a whole; put the whole field in quotes and double each quote inside it (\"\")"

        for char in text {
            let next = char.isNewline ? line + 1 : line
            if atStart {
                if char == "\"" {
                    atStart = false
                    parsingQuotes = true
                    quoteLine = line
                    quoteField = fieldIndex
                } else if char == delimiter {
                    finishField()
                } else if char.isNewline {
                    finishRow(nextLine: next)
                } else if char.isWhitespace {
                    // ignored between fields, as SwiftCSV does
                } else {
                    parsingField = true
                    atStart = false
                    append(char)
                }
            } else if parsingField {
                if innerQuotes {
                    guard char == "\"" else { return fail(strayQuote) }
                    append(char)
                    innerQuotes = false
                } else if char == "\"" {
                    innerQuotes = true
                } else if char == delimiter {
                    atStart = true
                    parsingField = false
                    finishField()
                } else if char.isNewline {
                    atStart = true
                    parsingField = false
                    finishRow(nextLine: next)
                } else {
                    append(char)
                }
            } else if parsingQuotes {
                if innerQuotes {
                    if char == "\"" {
                        append(char)
                        innerQuotes = false
                    } else if char == delimiter {
                        atStart = true
                        innerQuotes = false
                        finishField()
                    } else if char.isNewline {
                        atStart = true
                        parsingQuotes = false
                        innerQuotes = false
                        finishRow(nextLine: next)
                    } else if !char.isWhitespace {
                        return fail("text after the closing quote of a quoted field; a quoted field must end at a comma or the end of the line (double a quote inside it: \"\")")
                    }
                } else if char == "\"" {
                    innerQuotes = true
                } else {
                    append(char)
                }
            }
            line = next
        }
        if atStart == false, parsingField == false, parsingQuotes, !innerQuotes {
            result.header = header
            result.problem = (quoteLine, quoteField, "a quoted field opened on line \(quoteLine) is never closed; add the closing quote (\") and double each quote inside the field (\"\")")
            return result
        }
        if recordIndex == 0 { finishField() }
        if !recordHasContent { recordStartLines.removeLast() }
        result.recordStartLines = recordStartLines
        result.header = header
        return result
    }

    /// The line of data row `index` (0-based, after the header).
    func line(ofRow index: Int) -> Int {
        recordStartLines.indices.contains(index + 1) ? recordStartLines[index + 1] : index + 2
    }
}
