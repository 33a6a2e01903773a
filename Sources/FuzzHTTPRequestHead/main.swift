// libFuzzer entry point for FuzzTargets.httpRequestHead; `make fuzz` builds it with -sanitize=fuzzer and -DFUZZING.
import FuzzTargets

FuzzDriver.run(FuzzTargets.httpRequestHead)
