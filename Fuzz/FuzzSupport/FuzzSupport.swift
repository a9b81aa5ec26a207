import Foundation

/// Helpers shared by the libFuzzer targets (`tools/fuzz.sh` builds and runs them; see README "Reliability").
public enum FuzzInput {
  /// The input as a temporary file, for parsers that read files (a zip archive, a journal). One path per process,
  /// rewritten for every input.
  public static func file(_ bytes: UnsafeRawBufferPointer, suffix: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-fuzz-\(getpid())\(suffix)")
    FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
    return url
  }

  /// Splits the input at its first NUL byte into two parts (vocab.json and merges.txt, say).
  public static func split(_ bytes: UnsafeRawBufferPointer) -> (Data, Data) {
    guard let nul = bytes.firstIndex(of: 0) else { return (Data(bytes), Data()) }
    return (Data(bytes[..<nul]), Data(bytes[(nul + 1)...]))
  }
}
