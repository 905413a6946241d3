import Crypto
import _CryptoExtras

/// The cryptographic toolbox of Core Vol 3 Part H 2.2: the functions SMP, address resolution and
/// the controller's LE Encrypt are built from. Values are most significant octet first, as the
/// spec prints them (and FIPS-197); HCI and SMP PDUs carry them least significant octet first, so
/// callers reverse each value over its whole width on the way in and out.
public enum CryptoToolbox {
    /// A toolbox input of the wrong size.
    public struct InputError: Error, Equatable, CustomStringConvertible {
        public var name: String
        public var expected: Int
        public var actual: Int
        public init(name: String, expected: Int, actual: Int) {
            self.name = name
            self.expected = expected
            self.actual = actual
        }
        public var description: String { "\(name) is \(actual) octets, the security function takes \(expected)" }
    }

    /// Security function e (2.2.1): AES-128 of one 128-bit block, `encryptedData = e(key, plaintextData)`.
    /// `key` and `plaintext` are 16 octets each, most significant first; so is the result.
    public static func e(key: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        guard key.count == 16 else { throw InputError(name: "key", expected: 16, actual: key.count) }
        guard plaintext.count == 16 else {
            throw InputError(name: "plaintext", expected: 16, actual: plaintext.count)
        }
        var block = plaintext
        try AES.permute(&block, key: SymmetricKey(data: key))
        return block
    }
}
