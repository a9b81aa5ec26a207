import Foundation
import LTMPaths
import XCTest

final class RelativePathTests: XCTestCase {
  func testPlainRelativePathsAndGlobsAreAccepted() throws {
    for path in ["config.json", "models/a/model-00001-of-00002.safetensors", "lm1b/news.en.heldout-*", "a/[!x]?/b", ".hidden", "x..y"] {
      XCTAssertEqual(try RelativePath(validating: path).string, path)
    }
    let root = URL(fileURLWithPath: "/cache")
    XCTAssertEqual(try RelativePath(validating: "models/a/b.json").resolved(under: root).path, "/cache/models/a/b.json")
  }

  func testEveryWayOutIsRefusedWithItsReason() {
    let cases: [(String, String)] = [
      ("", "empty"), ("/etc/passwd", "absolute"), ("../x", "'..'"), ("a/../../x", "'..'"), ("a/..", "'..'"),
      ("./a", "'.'"), ("a/./b", "'.'"), ("a//b", "empty component"), ("a/", "empty component"),
      ("..\\x", "backslash"), ("a\\b", "backslash"), ("a\u{0}b", "control"), ("a\nb", "control"),
    ]
    for (path, reason) in cases {
      XCTAssertThrowsError(try RelativePath(validating: path), path.debugDescription) { error in
        let text = String(describing: error)
        XCTAssertTrue(text.contains(reason), "\(path.debugDescription): \(text)")
        XCTAssertFalse(text.contains("\n"), "one line: \(text)")
      }
    }
  }
}
