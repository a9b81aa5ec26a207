import Foundation

/// Errors of reading, comparing and merging result files. One line each, naming the file or the entry.
public enum ReportError: Error, CustomStringConvertible, Equatable {
  case unreadable(path: String, reason: String)
  case invalid(String)
  case notMergeable(String)

  public var description: String {
    switch self {
    case .unreadable(let path, let reason): return "\(path): \(reason)"
    case .invalid(let message): return message
    case .notMergeable(let message): return "cannot merge: \(message)"
    }
  }
}
