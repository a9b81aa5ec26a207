import Foundation

/// Every download failure, rendered as one line that names the URL (or the cache path) involved.
public enum DownloadError: Error, CustomStringConvertible, Equatable {
  case invalidManifest(file: String, reason: String)
  case unknownDataset(name: String, known: [String])
  case noFiles(dataset: String, split: String)
  case http(url: String, status: Int)
  case network(url: String, reason: String)
  case interrupted(url: String, received: Int64, expected: Int64?)
  case checksumMismatch(url: String, algorithm: String, expected: String, actual: String)
  case sizeMismatch(url: String, expected: Int64, actual: Int64)
  case unverified(url: String, path: String)
  case extraction(url: String, member: String, reason: String)
  case offlineMissing(cache: String, missing: [String])
  case invalidModelName(name: String)
  case hub(url: String, reason: String)
  case io(path: String, reason: String)

  public var description: String {
    switch self {
    case .invalidManifest(let file, let reason):
      return "\(file): invalid download manifest: \(reason)"
    case .unknownDataset(let name, let known):
      return "no download source for '\(name)' (known: \(known.joined(separator: ", ")))"
    case .noFiles(let dataset, let split):
      return "the download manifest has no '\(split)' files for \(dataset)"
    case .http(let url, let status):
      return "\(url): HTTP \(status)\(status == 404 ? " (not found)" : status == 401 || status == 403 ? " (not authorised; set HF_TOKEN for gated or private hub repositories)" : "")"
    case .network(let url, let reason):
      return "\(url): \(reason)"
    case .interrupted(let url, let received, let expected):
      let of = expected.map { " of \($0)" } ?? ""
      return "\(url): connection dropped after \(received)\(of) bytes; the partial file is kept and the next call resumes it"
    case .checksumMismatch(let url, let algorithm, let expected, let actual):
      return "\(url): \(algorithm) mismatch (expected \(expected), got \(actual)); the download was discarded"
    case .sizeMismatch(let url, let expected, let actual):
      return "\(url): size mismatch (expected \(expected) bytes, got \(actual)); the download was discarded"
    case .unverified(let url, let path):
      return "\(url): no known checksum for \(path) on this route; refusing an unverified file (pass --allow-unverified to accept it)"
    case .extraction(let url, let member, let reason):
      return "\(url): cannot extract \(member): \(reason)"
    case .offlineMissing(let cache, let missing):
      return "offline: \(missing.count) file(s) missing from \(cache): \(Self.groupedBySource(missing))"
    case .invalidModelName(let name):
      return "--model \(name): no such file or directory, and not a hub repository id (owner/name[@revision], or an alias such as gpt2)"
    case .hub(let url, let reason):
      return "\(url): \(reason)"
    case .io(let path, let reason):
      return "\(path): \(reason)"
    }
  }

  /// "a (U), b (U), c (V)" → "a, b (U), c (V)": the 50 LM1B shards name their one tarball once.
  static func groupedBySource(_ entries: [String]) -> String {
    var groups: [(paths: [String], source: String)] = []
    for entry in entries {
      let split = entry.range(of: " (")
      let path = split.map { String(entry[..<$0.lowerBound]) } ?? entry
      let source = split.map { String(entry[$0.lowerBound...]) } ?? ""
      if let last = groups.last, last.source == source, !source.isEmpty {
        groups[groups.count - 1].paths.append(path)
      } else {
        groups.append(([path], source))
      }
    }
    return groups.map { $0.paths.joined(separator: ", ") + $0.source }.joined(separator: ", ")
  }
}
