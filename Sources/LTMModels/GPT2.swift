import Foundation
import LTMCheckpoint
import LTMTensor

/// GPT-2 (Hugging Face layout). (Stub.)
public final class GPT2Model: BlockScoringModel {
  public let descriptor = ModelDescriptor(family: "gpt2", parameterCount: 0, vocabSize: 50257, contextLength: 1024, bound: .exact)
  public static func randomGPT2Small(seed: UInt64) -> GPT2Model { GPT2Model() }
  public func flops(blockLength: Int) -> Double { 0 }
  public func score(blocks: [[Int32]]) throws -> [BlockScore] { [] }
}
