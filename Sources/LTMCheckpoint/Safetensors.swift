import Foundation

/// safetensors reader. (Stub: minimal, unvalidated; being replaced.)
public enum Safetensors {
  public static func load(_ url: URL) throws -> TensorArchive {
    let data = try Data(contentsOf: url, options: .alwaysMapped)
    let n = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
    let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
    var tensors: [String: RawTensor] = [:]
    for (k, v) in header where k != "__metadata__" {
      let e = v as! [String: Any]
      let off = e["data_offsets"] as! [Int]
      tensors[k] = RawTensor(dtype: DType(rawValue: e["dtype"] as! String)!, shape: e["shape"] as! [Int],
                             bytes: data.subdata(in: (8 + n + off[0])..<(8 + n + off[1])))
    }
    return TensorArchive(tensors: tensors, files: [url])
  }
}
