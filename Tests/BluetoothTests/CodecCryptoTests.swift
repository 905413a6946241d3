import Testing
import BluetoothCore

fileprivate func h(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
    CodecBytes.hex(text, sourceLocation: sourceLocation)
}

fileprivate func xor(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] { zip(a, b).map { $0 ^ $1 } }

/// Security function e (Core Vol 3 Part H 2.2.1) against FIPS-197 and the Core Spec's own examples
/// (`shared/spec/smp-test-vectors.md`). Every value is most significant octet first, as printed.
struct CodecCryptoTests {
    @Test(arguments: [
        // FIPS-197 Appendix B.
        ("2b7e151628aed2a6abf7158809cf4f3c", "3243f6a8885a308d313198a2e0370734", "3925841d02dc09fbdc118597196a0b32"),
        // FIPS-197 Appendix C.1 (AES-128).
        ("000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff", "69c4e0d86a7b0430d8cdb78070b4c55a"),
        // RFC 4493 2.3 / Core Vol 3 Part H D.1: L = AES-128(K, 0), the subkey base of AES-CMAC.
        ("2b7e151628aed2a6abf7158809cf4f3c", "00000000000000000000000000000000", "7df76b0c1ab899b33e42f047b91b546f"),
        // Core Vol 3 Part H D.7: ah's AES-128(IRK, r') with r' = padding || prand 708194.
        ("ec0234a357c8ad05341010a60a397d9b", "00000000000000000000000000708194", "159d5fb72ebe2311a48c1bdcc40dfbaa"),
        // Core Vol 3 Part H 2.2.4: s1(k = 0, r1, r2) = e(k, r1' || r2').
        ("00000000000000000000000000000000", "112233445566778899aabbccddeeff00", "9a1fe1f0e8b0f49b5b4216ae796da062"),
    ])
    func eMatchesTheVectors(key: String, plaintext: String, expected: String) throws {
        #expect(try CryptoToolbox.e(key: h(key), plaintext: h(plaintext)) == h(expected))
    }

    @Test func eComposesToTheLegacyConfirmValue() throws {
        // Core Vol 3 Part H 2.2.3: c1(k, r, preq, pres, iat, rat, ia, ra) = e(k, e(k, r XOR p1) XOR p2).
        let k = CodecBytes.zeros(16)
        let r = h("5783D52156AD6F0E6388274EC6702EE0")
        let p1 = h("05000800000302070710000001010001")
        let p2 = h("00000000A1A2A3A4A5A6B1B2B3B4B5B6")
        let inner = try CryptoToolbox.e(key: k, plaintext: xor(r, p1))
        #expect(inner == h("02c7aa2a9857ac866ff91232df0e3c95"))
        #expect(try CryptoToolbox.e(key: k, plaintext: xor(inner, p2)) == h("1e1e3fef878988ead2a74dc5bef13b86"))
    }

    @Test(arguments: [(15, 16), (17, 16), (0, 16), (16, 15), (16, 17), (16, 0), (32, 16)])
    func eRefusesOtherSizes(keyCount: Int, plaintextCount: Int) {
        let key = [UInt8](repeating: 0x11, count: keyCount)
        let plaintext = [UInt8](repeating: 0x22, count: plaintextCount)
        let expected = keyCount != 16
            ? CryptoToolbox.InputError(name: "key", expected: 16, actual: keyCount)
            : CryptoToolbox.InputError(name: "plaintext", expected: 16, actual: plaintextCount)
        #expect(throws: expected) { _ = try CryptoToolbox.e(key: key, plaintext: plaintext) }
    }
}
