/// Decimal output of measurements, one rule for every module (DalyProtocol is the module all others build on):
/// JSON numbers rounded to the digits their sources have, and fixed-point text for the OLED, juepi's MQTT payloads
/// and `dalygate read`. Foundation-free, so the display and the protocol need nothing more.
public enum Decimals {
    /// `value` rounded to `digits` decimals (half away from zero), so JSON carries no binary noise; a result of
    /// zero is always +0 (JSON never shows `-0`).
    public static func rounded(_ value: Double, _ digits: Int) -> Double {
        let scale = power(digits)
        let result = (value * scale).rounded() / scale
        return result == 0 ? 0 : result
    }

    /// `value` with exactly `digits` decimals, rounded half to even as printf's "%.nf". A negative value that rounds
    /// to zero keeps its sign only with `signedZero` (Arduino's `String(float, n)` prints "-0.00", the OLED "0.00").
    public static func fixed(_ value: Double, _ digits: Int, signedZero: Bool = false) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : value < 0 ? "-inf" : "inf" }
        let scale = power(digits)
        let magnitude = abs(value)
        let product = magnitude * scale
        var scaled = product.rounded(.toNearestOrEven)
        if product - product.rounded(.down) == 0.5 {
            // A tie only after the multiplication rounded: the exact product's residual says which side it was on
            // (printf rounds the exact binary value; 13.0005 is a hair above 13.0005, so "13.001").
            let residual = (-product).addingProduct(magnitude, scale)
            if residual > 0 { scaled = product.rounded(.up) } else if residual < 0 { scaled = product.rounded(.down) }
        }
        let sign = value < 0 && (scaled != 0 || signedZero) ? "-" : ""
        // Past 2^63 the integer arithmetic below would trap; no reading comes near, so plain text is enough there.
        guard scaled < 9e18 else { return sign + String(abs(value)) }
        let integer = Int(scaled / scale)
        let fraction = Int(scaled) - integer * Int(scale)
        guard digits > 0 else { return sign + String(integer) }
        let digitsText = String(fraction)
        return sign + String(integer) + "." + String(repeating: "0", count: digits - digitsText.count) + digitsText
    }

    private static func power(_ digits: Int) -> Double {
        var scale = 1.0
        for _ in 0..<max(0, digits) { scale *= 10 }
        return scale
    }
}
