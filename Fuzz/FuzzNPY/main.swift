import Foundation
import FuzzSupport
import LTMMauve

/// A `.npy` feature file: header, dtype, shape and data size.
FuzzInput.run { start, count in
  _ = try? NPYFile.parse(Data(FuzzInput.bytes(start, count)), path: "fuzz.npy")
  return 0
}
