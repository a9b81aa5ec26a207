import Foundation

/// Table labels for models, shared by every command's reports.
enum ModelLabels {
  /// The checkpoint folder's name, or `folder/file` for a checkpoint file (`ltm-s/ckpt.pt`: the file name alone
  /// says little), suffixed `#n` (the model's 1-based position) when another model already has the label.
  static func unique(for path: URL, index: Int, taken: [String]) -> String {
    let url = path.standardizedFileURL
    var isDirectory: ObjCBool = false
    FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
    let base = isDirectory.boolValue ? url.lastPathComponent : url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent
    return taken.contains(base) ? "\(base)#\(index + 1)" : base
  }
}
