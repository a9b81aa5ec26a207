import Foundation

/// libFuzzer's driver, entered from the target's own `main`: SwiftPM renames an executable's entry point (so tests
/// can import executables), which rules out `-parse-as-library` and libFuzzer's `main`.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Helpers shared by the libFuzzer targets (`tools/fuzz.sh` builds and runs them; see README "Reliability").
public enum FuzzInput {
  /// Runs libFuzzer with the process's arguments over `body`, which gets each input; never returns.
  public static func run(_ body: @escaping @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, body))
  }

  /// The input as a buffer (libFuzzer passes a null pointer for the empty input).
  public static func bytes(_ start: UnsafePointer<UInt8>?, _ count: Int) -> UnsafeRawBufferPointer {
    start.map { UnsafeRawBufferPointer(start: $0, count: count) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
  }

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
