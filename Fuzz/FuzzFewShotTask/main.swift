import Foundation
import FuzzSupport
@testable import LTMTasks

/// A few-shot task definition (YAML, templates, filters, preprocess steps).
FuzzInput.run { start, count in
  _ = try? FewShotTask.parse(yaml: String(decoding: FuzzInput.bytes(start, count), as: UTF8.self), file: "fuzz.yaml")
  return 0
}
