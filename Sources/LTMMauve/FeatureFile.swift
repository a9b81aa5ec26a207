import Foundation
import LTMCheckpoint

/// Reads a feature matrix named on the command line as `FILE[:TENSOR]`: a safetensors file (F32 or F64; the tensor
/// after the colon, required when the file holds several) or a `.npy` file. F32 features are widened exactly to
/// float64; the PCA runs in float64 either way (mauve.md §4.3: pass float64 for exact agreement with the reference).
public enum FeatureFile {
  public struct Loaded: Sendable {
    public var matrix: FeatureMatrix
    public var path: String
    /// The tensor name inside a safetensors file (nil for .npy).
    public var tensor: String?
    public var format: String
    /// "F32" or "F64", as stored.
    public var dtype: String
  }

  /// Splits `FILE[:TENSOR]`: an existing path is taken whole (so paths containing ':' work), otherwise the text
  /// after the last colon names the tensor.
  public static func split(_ spec: String) -> (path: String, tensor: String?) {
    if FileManager.default.fileExists(atPath: spec) { return (spec, nil) }
    guard let colon = spec.lastIndex(of: ":") else { return (spec, nil) }
    let tensor = String(spec[spec.index(after: colon)...])
    return (String(spec[..<colon]), tensor.isEmpty ? nil : tensor)
  }

  public static func load(_ spec: String) throws -> Loaded {
    let (path, tensor) = split(spec)
    func bad(_ reason: String) -> MauveError { .badFeatureFile(path: path, reason: reason) }
    guard FileManager.default.fileExists(atPath: path) else { throw bad("no such file") }
    let url = URL(fileURLWithPath: path)
    if path.lowercased().hasSuffix(".npy") {
      if let tensor { throw bad(".npy files hold one array; drop ':\(tensor)'") }
      let a = try NPYFile.load(url)
      guard a.shape.count == 2 else { throw bad("features must be a 2-D array [rows, dims], got shape \(a.shape)") }
      return Loaded(matrix: FeatureMatrix(values: a.values, rows: a.shape[0], cols: a.shape[1]), path: path, tensor: nil,
                    format: "npy", dtype: a.descr == "<f8" ? "F64" : "F32")
    }
    let archive: TensorArchive
    do { archive = try Safetensors.load(url) } catch {
      throw bad("not a readable safetensors or .npy file (\(error))")
    }
    let raw: RawTensor
    if let tensor {
      guard let t = archive.tensors[tensor] else {
        throw bad("no tensor '\(tensor)' (it holds \(archive.tensors.keys.sorted().joined(separator: ", ")))")
      }
      raw = t
    } else {
      guard archive.tensors.count == 1, let only = archive.tensors.values.first else {
        let names = archive.tensors.keys.sorted()
        throw bad(names.isEmpty ? "the file holds no tensors"
                  : "the file holds \(names.count) tensors (\(names.joined(separator: ", "))); name one as FILE:TENSOR")
      }
      raw = only
    }
    let name = raw.name.isEmpty ? (tensor ?? "") : raw.name
    guard raw.dtype == .f32 || raw.dtype == .f64 else {
      throw bad("tensor \(name) has dtype \(raw.dtype.rawValue); features must be F32 or F64")
    }
    guard raw.shape.count == 2 else {
      throw bad("tensor \(name) has shape \(raw.shape); features must be 2-D [rows, dims]")
    }
    return Loaded(matrix: FeatureMatrix(values: try raw.doubles(), rows: raw.shape[0], cols: raw.shape[1]),
                  path: path, tensor: name, format: "safetensors", dtype: raw.dtype.rawValue)
  }
}
