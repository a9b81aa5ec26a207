import Foundation
import FuzzSupport
@testable import LTMTasks

/// Data rows: few-shot JSONL objects and CSV with quoting, WikiText pages, and the zero-shot readers' records
/// (a list-valued field joined, several CSV fields joined).
FuzzInput.run { start, count in
  let bytes = Array(FuzzInput.bytes(start, count))
  let text = String(decoding: bytes, as: UTF8.self)
  _ = try? FewShotRecords.jsonl(text, file: "fuzz.jsonl")
  _ = try? FewShotRecords.csv(text, columns: ["label", "title", "description"], file: "fuzz.csv")
  _ = FewShotRecords.wikitextPages(text)
  _ = try? ReaderKind.jsonl.examples(utf8: bytes, file: "fuzz.jsonl", fields: TextFields(["article_text"], join: "\n"))
  _ = try? ReaderKind.csv.examples(utf8: bytes, file: "fuzz.csv", fields: TextFields(["title", "description"], join: " "), columns: ["label", "title", "description"])
  return 0
}
