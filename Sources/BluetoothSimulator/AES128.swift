/// AES-128 block encryption (FIPS-197), for LE Encrypt. Inputs and output are most significant
/// byte first, as in FIPS-197. Only a controller command uses it, so clarity beats speed.
enum AES128 {
    /// The S-box, computed from its definition: the multiplicative inverse in GF(2^8) followed by
    /// the affine transformation.
    static let sbox: [UInt8] = {
        var box = [UInt8](repeating: 0, count: 256)
        for i in 0..<256 {
            let x = inverse(UInt8(truncatingIfNeeded: i))
            var y = x
            for shift in 1...4 { y ^= x << shift | x >> (8 - shift) }
            box[i] = y ^ 0x63
        }
        return box
    }()

    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var a = a, b = b, p: UInt8 = 0
        while b != 0 {
            if b & 1 != 0 { p ^= a }
            let carry = a & 0x80 != 0
            a <<= 1
            if carry { a ^= 0x1B }
            b >>= 1
        }
        return p
    }

    private static func inverse(_ a: UInt8) -> UInt8 {
        guard a != 0 else { return 0 }
        // a^254 = a^-1 in GF(2^8).
        var result: UInt8 = 1
        var base = a
        var e = 254
        while e > 0 {
            if e & 1 != 0 { result = multiply(result, base) }
            base = multiply(base, base)
            e >>= 1
        }
        return result
    }

    /// Encrypts one 16-byte block with a 16-byte key. Shorter inputs are zero-padded.
    static func encrypt(block: [UInt8], key: [UInt8]) -> [UInt8] {
        var state = [UInt8](repeating: 0, count: 16)
        for i in 0..<min(16, block.count) { state[i] = block[i] }
        var k = [UInt8](repeating: 0, count: 16)
        for i in 0..<min(16, key.count) { k[i] = key[i] }
        let roundKeys = expand(k)
        addRoundKey(&state, roundKeys, 0)
        for round in 1...10 {
            for i in 0..<16 { state[i] = sbox[Int(state[i])] }
            shiftRows(&state)
            if round < 10 { mixColumns(&state) }
            addRoundKey(&state, roundKeys, round)
        }
        return state
    }

    private static func expand(_ key: [UInt8]) -> [UInt8] {
        var w = key
        w.reserveCapacity(176)
        var rcon: UInt8 = 1
        while w.count < 176 {
            var t = Array(w[(w.count - 4)...])
            if w.count % 16 == 0 {
                t = [sbox[Int(t[1])] ^ rcon, sbox[Int(t[2])], sbox[Int(t[3])], sbox[Int(t[0])]]
                rcon = multiply(rcon, 2)
            }
            for i in 0..<4 { w.append(w[w.count - 16] ^ t[i]) }
        }
        return w
    }

    private static func addRoundKey(_ s: inout [UInt8], _ w: [UInt8], _ round: Int) {
        for i in 0..<16 { s[i] ^= w[round * 16 + i] }
    }

    /// State is column-major: byte (row r, column c) at index 4c + r.
    private static func shiftRows(_ s: inout [UInt8]) {
        let old = s
        for r in 1..<4 {
            for c in 0..<4 { s[4 * c + r] = old[4 * ((c + r) % 4) + r] }
        }
    }

    private static func mixColumns(_ s: inout [UInt8]) {
        for c in 0..<4 {
            let a0 = s[4 * c], a1 = s[4 * c + 1], a2 = s[4 * c + 2], a3 = s[4 * c + 3]
            s[4 * c] = multiply(a0, 2) ^ multiply(a1, 3) ^ a2 ^ a3
            s[4 * c + 1] = a0 ^ multiply(a1, 2) ^ multiply(a2, 3) ^ a3
            s[4 * c + 2] = a0 ^ a1 ^ multiply(a2, 2) ^ multiply(a3, 3)
            s[4 * c + 3] = multiply(a0, 3) ^ a1 ^ a2 ^ multiply(a3, 2)
        }
    }
}
