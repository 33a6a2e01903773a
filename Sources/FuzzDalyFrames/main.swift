// libFuzzer entry point for FuzzTargets.dalyFrames; `make fuzz` builds it with -sanitize=fuzzer and -DFUZZING.
import FuzzTargets

FuzzDriver.run(FuzzTargets.dalyFrames)
