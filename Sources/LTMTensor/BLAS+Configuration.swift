import Foundation
import CBLAS

extension BLAS {
  /// OpenBLAS's build description ("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64"): reports record
  /// it because the kernel OpenBLAS picks for the CPU decides the last bits of every matmul.
  public static var configuration: String {
    guard let config = openblas_get_config() else { return "OpenBLAS (unknown configuration)" }
    return String(cString: config).trimmingCharacters(in: .whitespaces)
  }
}
