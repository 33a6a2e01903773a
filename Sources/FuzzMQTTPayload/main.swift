// libFuzzer entry point for FuzzTargets.mqttPayload; `make fuzz` builds it with -sanitize=fuzzer and -DFUZZING.
import FuzzTargets

FuzzDriver.run(FuzzTargets.mqttPayload)
