import Foundation
import LTMCheckpoint
import LTMModels
import LTMProcessLimits

/// What a run leaves out instead of stopping: one broken model must not cost the healthy ones beside it their
/// results. Each failure is one line in `Outputs.failures`; the command writes its reports, then exits 1.
enum RunFailures {
  /// A result whose score came out NaN or infinite: nothing of it is cached or reported.
  struct NonFiniteScore: Error, CustomStringConvertible {
    var model: String, task: String, item: String, value: Double
    var description: String {
      "\(model) on \(task): \(item) scored \(value), not a number; that result is left out (the model's output overflowed or the checkpoint is broken)"
    }
  }

  /// Loads every model in order. A checkpoint whose weights hold NaN or Inf is left out with one line naming the
  /// tensor; any other load error (a typo, a missing file, a mismatched config) stops the run before any work, and
  /// so does a run left with no model at all.
  static func loadModels<Model>(
    _ paths: [URL], progress: ProgressReporter, load: (_ path: URL, _ index: Int, _ loaded: [Model]) throws -> Model
  ) throws -> (models: [Model], failures: [String]) {
    var models: [Model] = []
    var failures: [String] = []
    var firstBroken: Error?
    for (index, path) in paths.enumerated() {
      progress.report(.stage("loading model \(path.path)"))
      do {
        models.append(try load(path, index, models))
      } catch let error as CheckpointError {
        guard case .nonFiniteWeight = error else { throw error }
        failures.append("model \(path.path) left out: \(error)")
        firstBroken = firstBroken ?? error
      }
    }
    if models.isEmpty, let firstBroken { throw firstBroken }
    return (models, failures)
  }
}

/// A run keeps every model loaded to its end, and each model's largest batch of logits (tokens × vocabulary, fp32)
/// comes on top: a run that cannot fit is refused before its first block, not killed in the middle of it.
enum RunMemory {
  static func check(_ models: [ModelDescriptor], tokensPerBatch: Int, batchLabel: String) throws {
    let weights = models.reduce(0.0) { $0 + 4 * Double($1.parameterCount) }
    let logits = models.map { 4 * Double(tokensPerBatch) * Double($0.vocabSize) }.max() ?? 0
    let limit = try UsableMemory.limit()
    guard weights + logits > Double(limit.bytes) else { return }
    throw HarnessError.exceedsMemory(
      what: "fp32 weights of \(models.count) model(s) and the logits of \(batchLabel)",
      estimatedBytes: UInt64(min(weights + logits, 1.8e19)), limit: limit,
      advice: "use fewer --model paths per run, a smaller batch, or a machine with more memory")
  }
}
