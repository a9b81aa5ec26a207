import ArgumentParser
import Foundation
import LTMHarness

/// `ltm-bench status DIR`: blocks done of total per shard, model and task, with an ETA, read from the block caches.
struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show how far a zero-shot run or its shards got: blocks done of total per shard, model and task, and an ETA.",
    discussion: """
      DIR is a zero-shot --output-dir, or the base folder of a sharded run whose subfolders are the shards \
      (--output-dir BASE/shard-{shard}). Nothing is written. Blocks are counted in each shard's block cache, so a \
      killed element shows what it kept; the ETA is the shard's remaining blocks at its rate since it (re)started.
      """)

  @Argument(help: "A zero-shot output folder, or the base folder of a sharded run.")
  var directory: String

  func run() throws {
    let status = try CLIErrors.oneLine { try RunStatus.read(URL(fileURLWithPath: directory)) }
    let now = Date()
    var rows = [["shard", "model", "task", "blocks", "state", "ETA"]]
    for shard in status.shards {
      let name = shard.progress.shard.map { "\($0.index)/\($0.count)" } ?? "-"
      let state = shard.finished ? "finished" : "incomplete (last block \(Self.duration(now.timeIntervalSince(shard.lastActivity))) ago)"
      let eta = shard.finished ? "-" : shard.etaSeconds.map(Self.duration) ?? "unknown"
      for unit in shard.units {
        rows.append([name, unit.model, "\(unit.task)/\(unit.split)", "\(unit.done)/\(unit.total)", state, eta])
      }
    }
    if let count = status.shardCount {
      for index in status.missing { rows.append(["\(index)/\(count)", "-", "-", "-", "not started (no folder)", "-"]) }
    }
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
    for row in rows {
      print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        .trimmingCharacters(in: .whitespaces))
    }
    let finished = status.shards.filter(\.finished).count
    let done = status.shards.reduce(0) { $0 + $1.done }, total = status.shards.reduce(0) { $0 + $1.total }
    if let count = status.shardCount {
      print("\n\(finished) of \(count) shards finished, \(done)/\(total) blocks of the started shards done")
    } else {
      print("\n\(finished == 1 ? "finished" : "not finished"), \(done)/\(total) blocks done")
    }
  }

  static func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s) s" }
    if s < 3600 { return "\(s / 60) min \(s % 60) s" }
    return "\(s / 3600) h \(s % 3600 / 60) min"
  }
}
