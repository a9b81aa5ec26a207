import Foundation
import FuzzSupport
@testable import LTMTasks

/// A zero-shot task definition (YAML).
FuzzInput.run { start, count in
  _ = try? TaskDefinition.parse(yaml: String(decoding: FuzzInput.bytes(start, count), as: UTF8.self), file: "fuzz.yaml")
  return 0
}
