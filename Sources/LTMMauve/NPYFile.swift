import Foundation

/// A minimal `.npy` reader for feature matrices (what `np.save` writes for a float array).
///
/// Layout: the magic `\x93NUMPY`, a major/minor version byte pair, the header length (u16 LE in version 1, u32 LE in
/// versions 2 and 3), an ASCII (v3: UTF-8) Python dict literal such as
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 64), }` padded with spaces and a newline, then the
/// raw little-endian elements. Only `<f4`/`<f8` in C order are accepted; everything else is refused with the
/// reason, never guessed.
public enum NPYFile {
  public struct Array: Sendable {
    public var shape: [Int]
    /// "<f4" or "<f8".
    public var descr: String
    public var values: [Double]
  }

  public static func load(_ url: URL) throws -> Array {
    let data: Data
    do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
      throw MauveError.badFeatureFile(path: url.path, reason: "cannot read the file")
    }
    return try parse(data, path: url.path)
  }

  public static func parse(_ data: Data, path: String) throws -> Array {
    func bad(_ reason: String) -> MauveError { .badFeatureFile(path: path, reason: reason) }
    let bytes = [UInt8](data.prefix(12))
    guard bytes.count >= 10, bytes[0] == 0x93, Swift.Array(bytes[1..<6]) == Swift.Array("NUMPY".utf8) else {
      throw bad("not a .npy file (no \\x93NUMPY magic)")
    }
    let major = bytes[6]
    let headerLength: Int, headerStart: Int
    switch major {
    case 1:
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    case 2, 3:
      guard bytes.count >= 12 else { throw bad("truncated .npy header") }
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      headerStart = 12
    default:
      throw bad(".npy format version \(major) is not supported (1, 2 or 3)")
    }
    guard headerStart + headerLength <= data.count,
          let header = String(data: data.subdata(in: (data.startIndex + headerStart)..<(data.startIndex + headerStart + headerLength)), encoding: .utf8)
    else { throw bad("truncated or unreadable .npy header") }

    guard let descr = quotedValue(of: "descr", in: header) else { throw bad("the .npy header has no 'descr'") }
    guard descr == "<f4" || descr == "<f8" else {
      throw bad("dtype \(descr) is not supported (little-endian float32 '<f4' or float64 '<f8' only)")
    }
    guard let fortran = rawValue(of: "fortran_order", in: header) else { throw bad("the .npy header has no 'fortran_order'") }
    guard fortran.hasPrefix("False") else { throw bad("Fortran-ordered arrays are not supported (save a C-ordered array)") }
    guard let shapeText = rawValue(of: "shape", in: header), shapeText.hasPrefix("("),
          let close = shapeText.firstIndex(of: ")")
    else { throw bad("the .npy header has no readable 'shape'") }
    let inner = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
    var shape: [Int] = []
    for part in inner.split(separator: ",") {
      let t = part.trimmingCharacters(in: .whitespaces)
      if t.isEmpty { continue }
      guard let v = Int(t), v >= 0 else { throw bad("bad dimension '\(t)' in the .npy shape") }
      shape.append(v)
    }
    let width = descr == "<f8" ? 8 : 4
    var count = 1
    for d in shape {
      let (p, o) = count.multipliedReportingOverflow(by: d)
      guard !o else { throw bad("the .npy shape \(shape) overflows") }
      count = p
    }
    let dataStart = headerStart + headerLength
    let (needed, overflow) = count.multipliedReportingOverflow(by: width)
    guard !overflow else { throw bad("the .npy shape \(shape) overflows") }
    guard data.count - dataStart == needed else {
      throw bad("the .npy data holds \(data.count - dataStart) bytes, but shape \(shape) of \(descr) needs \(needed)")
    }
    var values = [Double](repeating: 0, count: count)
    data.withUnsafeBytes { raw in
      let base = raw.baseAddress! + dataStart
      values.withUnsafeMutableBufferPointer { out in
        if width == 8 {
          for i in 0..<count { out[i] = Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) }
        } else {
          for i in 0..<count {
            out[i] = Double(Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))))
          }
        }
      }
    }
    return Array(shape: shape, descr: descr, values: values)
  }

  /// The text after `'key':` up to the end of the dict, trimmed.
  private static func rawValue(of key: String, in header: String) -> String? {
    for quote in ["'", "\""] {
      if let r = header.range(of: "\(quote)\(key)\(quote)") {
        let rest = header[r.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { continue }
        return rest.dropFirst().trimmingCharacters(in: .whitespaces)
      }
    }
    return nil
  }

  /// A quoted string value: `'key': '<f8'` → `<f8`.
  private static func quotedValue(of key: String, in header: String) -> String? {
    guard let v = rawValue(of: key, in: header), let q = v.first, q == "'" || q == "\"" else { return nil }
    let body = v.dropFirst()
    guard let end = body.firstIndex(of: q) else { return nil }
    return String(body[..<end])
  }
}
