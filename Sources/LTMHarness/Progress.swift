/// What the harness reports while it works. The library never prints: the CLI owns a `ProgressReporter`
/// that renders these (a live bar on a TTY, plain lines otherwise, always on stderr).
public enum ProgressEvent: Sendable {
  /// A step that may take a while (loading a checkpoint, hashing files, tokenizing a split).
  case stage(String)
  /// A task's token blocks are ready.
  case taskPrepared(task: String, split: String, examples: Int, tokens: Int, blocksScored: Int, blocksAvailable: Int)
  /// Blocks already scored by an earlier, interrupted run were taken from the journal.
  case resumed(model: String, task: String, blocks: Int)
  /// Scoring progress of one model on one task.
  case scoring(model: String, task: String, done: Int, total: Int, tokensPerSecond: Double)
  /// One model on one task is done; `summary` is the labelled headline ("ppl ≤ 95.26 (mdlm, upper)").
  case finished(model: String, task: String, summary: String)
  /// Few-shot progress of one model on one task at one shot count: documents done of total, seconds so far (the
  /// front end derives the ETA).
  case fewShot(model: String, task: String, shots: Int, done: Int, total: Int, elapsedSeconds: Double)
}

public protocol ProgressReporter: AnyObject {
  func report(_ event: ProgressEvent)
}

/// Discards events (library callers and tests that do not care).
public final class SilentProgress: ProgressReporter {
  public init() {}
  public func report(_ event: ProgressEvent) {}
}
