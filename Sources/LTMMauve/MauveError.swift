/// Why a MAUVE computation or a feature file was refused. One line each, naming the culprit.
public enum MauveError: Error, CustomStringConvertible, Equatable {
  case invalidInput(String)
  case invalidSetting(String)
  case numerical(String)
  case badFeatureFile(path: String, reason: String)

  public var description: String {
    switch self {
    case .invalidInput(let m), .invalidSetting(let m), .numerical(let m): return m
    case .badFeatureFile(let path, let reason): return "\(path): \(reason)"
    }
  }
}
