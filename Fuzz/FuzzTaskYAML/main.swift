import Foundation
import FuzzSupport
@testable import LTMReports
@testable import LTMTasks

/// The zero-shot task files: a task definition, a preset and the published-numbers table (YAML).
FuzzInput.run { start, count in
  let text = String(decoding: FuzzInput.bytes(start, count), as: UTF8.self)
  _ = try? TaskDefinition.parse(yaml: text, file: "fuzz.yaml")
  _ = try? TaskPreset.parse(yaml: text, file: "fuzz.yaml")
  _ = try? PublishedTable.parse(yaml: text, file: "fuzz.yaml")
  return 0
}
