/// Errors of model configs and inputs: one line each, naming the file or the bad value.
public enum ModelError: Error, CustomStringConvertible, Equatable {
  case unsupportedConfig(path: String, reason: String)
  case unknownFamily(path: String, reason: String)
  case badInput(String)

  public var description: String {
    switch self {
    case .unsupportedConfig(let p, let r): return "\(p): unsupported model config: \(r)"
    case .unknownFamily(let p, let r): return "\(p): cannot tell which model family this is: \(r)"
    case .badInput(let m): return m
    }
  }
}
