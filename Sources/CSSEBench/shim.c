// Empty: CSSEBench is only its header.
