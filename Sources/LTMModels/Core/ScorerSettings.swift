/// The settings a scorer's numbers depend on beyond its weights: LTM's posterior-inference steps, fast learning
/// rate, initialisation and ELBO samples; nothing for GPT-2. They label every result (`inference_steps`,
/// `scorer_settings` in results.json), key the block cache, and make `compare` refuse to compare numbers
/// computed under different settings.
public struct ScorerSettings: Sendable, Equatable, Hashable {
  /// Posterior-inference steps (the variable of an LTM steps sweep); nil for models without inference.
  public var inferenceSteps: Int?
  /// Every other setting, as strings so that equality is exact and the JSON stays flat.
  public var values: [String: String]

  public init(inferenceSteps: Int? = nil, values: [String: String] = [:]) {
    self.inferenceSteps = inferenceSteps
    self.values = values
  }

  public static let none = ScorerSettings()

  /// `steps=16;fast_lr=0.34;…` with keys sorted: a stable cache-key component.
  public var canonical: String {
    ((inferenceSteps.map { ["steps=\($0)"] } ?? []) + values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
      .joined(separator: ";")
  }
}
