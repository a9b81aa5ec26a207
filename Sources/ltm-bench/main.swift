import ArgumentParser
import LTMHarness

struct LTMBench: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "ltm-bench", abstract: "Evaluate LTM, GPT-2 and diffusion LM checkpoints.")
}
LTMBench.main()
