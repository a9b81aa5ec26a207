import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A read-only, private memory mapping of a whole file.
///
/// Checkpoints are gigabytes; mapping them means a tensor's bytes are paged in only when converted, and many
/// tensors can share one mapping. Slices handed out by `slice(_:)` are zero-based `Data` values that keep this
/// object (and so the mapping) alive, so no tensor outlives the memory it points at.
final class MappedFile: @unchecked Sendable {
  let url: URL
  let count: Int
  /// nil for an empty file: `mmap` rejects length 0.
  private let base: UnsafeRawPointer?

  init(_ url: URL) throws {
    self.url = url
    let fd = open(url.path, O_RDONLY)
    guard fd >= 0 else {
      throw CheckpointError.unreadable(path: url.path, reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      throw CheckpointError.unreadable(path: url.path, reason: String(cString: strerror(errno)))
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw CheckpointError.unreadable(path: url.path, reason: "not a regular file")
    }
    count = Int(info.st_size)
    if count == 0 {
      base = nil
      return
    }
    let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let p, p != MAP_FAILED else {
      throw CheckpointError.unreadable(path: url.path, reason: "mmap failed: \(String(cString: strerror(errno)))")
    }
    base = UnsafeRawPointer(p)
  }

  deinit {
    if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
  }

  /// The mapped bytes (empty for an empty file). Valid while `self` is alive.
  var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : count) }

  /// `MADV_DONTNEED` on the whole pages inside `region`, which must lie in this mapping: the clean, file-backed
  /// pages leave the process's resident set and fault back in from the page cache if read again.
  func releasePages(_ region: UnsafeRawBufferPointer) {
    guard let base, let start = region.baseAddress, start >= base, start + region.count <= base + count else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let lo = (Int(bitPattern: start) + page - 1) / page * page
    let hi = (Int(bitPattern: start) + region.count) / page * page
    guard hi > lo, let p = UnsafeMutableRawPointer(bitPattern: lo) else { return }
    madvise(p, hi - lo, Int32(MADV_DONTNEED))
  }

  /// Bytes `range` as a zero-based `Data` that shares the mapping (no copy) and retains `self`.
  func slice(_ range: Range<Int>) -> Data {
    precondition(range.lowerBound >= 0 && range.upperBound <= count, "slice outside the mapping")
    guard let base, !range.isEmpty else { return Data() }
    let start = UnsafeMutableRawPointer(mutating: base + range.lowerBound)
    return Data(bytesNoCopy: start, count: range.count, deallocator: .custom { _, _ in withExtendedLifetime(self) {} })
  }
}
