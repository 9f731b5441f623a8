// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title PRouter worker registry: a public log of signed endpoint bindings.
 *
 * A Phala worker signs, with its sr25519 worker key, Phala's `WorkerEndpointPayload`
 * (SCALE: 32-byte pubkey, 0x00 = V1, compact count, compact-length-prefixed UTF-8 strings,
 * u64 LE signing_time in ms) over `0xff 0x02 ++ payload`. Anyone may relay that binding here,
 * as anyone could call `updateWorkerEndpoint` on Phala's registry pallet.
 *
 * Trust model. sr25519 cannot be verified by the EVM, so this contract does not decide what
 * a worker's endpoint is: resolvers do. They read every `BindingSubmitted` event for a key,
 * verify each signature off chain, and believe the newest signing_time that verifies.
 * The contract therefore keeps NO per-key state: there is no "latest" pointer that an
 * unverified submission could move. A forged signature, a replay of an older valid payload,
 * or spam for somebody else's key only adds an event that resolvers discard; none of them can
 * hide or block a later valid submission, because nothing a submission does changes what the
 * next submission is allowed to do.
 *
 * What is checked here is only what is cheap and removes junk early (calldata is paid for by
 * the relayer, logs are read by every resolver):
 *  - the indexed `workerKey` equals the payload's first 32 bytes, so a resolver filtering on
 *    the topic only sees payloads that claim that key;
 *  - the payload is at least the smallest SCALE payload and at most MAX_PAYLOAD_BYTES,
 *    and its version byte is 0x00 (V1);
 *  - the signature is exactly 64 bytes;
 *  - the pallet's time window against the block time (ms):
 *    `signing_time <= now + MAX_SKEW_MS` and `now <= signing_time + MAX_AGE_MS`,
 *    so a payload leaked long ago cannot be re-logged later.
 * Everything else (signature, SCALE structure of the endpoint list, newest-wins) is the
 * resolver's job.
 *
 * Usage reports, in the same style. A worker signs its report of a period (sr25519 over
 * `prouter-usage-report-v1:` ++ the report's canonical JSON); anyone may relay it with
 * `submitReport`, which logs the canonical JSON and the signature in `ReportSubmitted`, indexed by
 * worker key and period start. Readers verify the signature and that the JSON's workerKey, start
 * and end are the logged ones; a junk or forged report is one more event they drop. Two different
 * valid reports of one worker for one period (or for overlapping periods) can only come from
 * the worker itself: readers flag that as equivocation and count neither. Checked here, cheaply:
 *  - the JSON is 1..MAX_REPORT_BYTES bytes and the signature 64 bytes;
 *  - the period is 1 ms .. MAX_PERIOD_MS long;
 *  - against the block time (ms): `end <= now + REPORT_MAX_SKEW_MS` and
 *    `now <= end + REPORT_MAX_AGE_MS`. So a report of a period is logged only in blocks from
 *    its end (less the skew) to REPORT_MAX_AGE_MS later: a reader of a window of periods scans
 *    those blocks only, and an old report cannot be logged again later.
 */
contract WorkerRegistry {
    /// 32-byte pubkey + version byte + compact(0) + u64 signing_time.
    uint256 public constant MIN_PAYLOAD_BYTES = 42;
    /// Bounds what every resolver must read per event. 16 `i2p://<52>.b32.i2p` endpoints (the most the
    /// identity module signs) take 42 + 16 * 68 = 1130 bytes; PRouter itself signs one (110 bytes).
    uint256 public constant MAX_PAYLOAD_BYTES = 2048;
    uint256 public constant SIGNATURE_BYTES = 64;
    /// The pallet's window: a binding is accepted up to 4 h after it was signed.
    uint256 public constant MAX_AGE_MS = 4 hours * 1000;
    /// Clock skew tolerated between the signer's clock and the block time.
    uint256 public constant MAX_SKEW_MS = 30 seconds * 1000;

    /// A report's canonical JSON is at most this long (calldata and log bytes are paid per byte; 64 KiB
    /// holds ~370 named peers). Larger reports stay in the daemon's reports folder.
    uint256 public constant MAX_REPORT_BYTES = 65536;
    /// The longest period a report may cover (the daemon's metering.period is at most a day).
    uint256 public constant MAX_PERIOD_MS = 1 days * 1000;
    /// A report is logged at most this long after its period ended (a daemon retries while it is down).
    uint256 public constant REPORT_MAX_AGE_MS = 7 days * 1000;
    /// Clock skew tolerated between the worker's clock and the block time for a period's end.
    uint256 public constant REPORT_MAX_SKEW_MS = 10 minutes * 1000;

    /// One relayed binding. Unverified: resolvers check `signature` over `0xff 0x02 ++ payload`.
    event BindingSubmitted(bytes32 indexed workerKey, bytes payload, bytes signature, address relayer);

    /// One relayed usage report (canonical JSON). Unverified: readers check `signature` and that the
    /// JSON names `workerKey`, `start` and `end`.
    event ReportSubmitted(
        bytes32 indexed workerKey,
        uint64 indexed start,
        uint64 end,
        bytes report,
        bytes signature,
        address relayer
    );

    error KeyMismatch(bytes32 workerKey, bytes32 payloadKey);
    error PayloadLength(uint256 length);
    error UnknownPayloadVersion(uint8 version);
    error SignatureLength(uint256 length);
    error SigningTimeInFuture(uint64 signingTimeMs, uint256 blockTimeMs);
    error SigningTimeStale(uint64 signingTimeMs, uint256 blockTimeMs);
    error ReportLength(uint256 length);
    error PeriodLength(uint64 startMs, uint64 endMs);
    error PeriodInFuture(uint64 endMs, uint256 blockTimeMs);
    error PeriodStale(uint64 endMs, uint256 blockTimeMs);

    /// Log `payload` and `signature` as a binding of `workerKey`, after the cheap checks above.
    function submit(bytes32 workerKey, bytes calldata payload, bytes calldata signature) external {
        uint256 length = payload.length;
        if (length < MIN_PAYLOAD_BYTES || length > MAX_PAYLOAD_BYTES) revert PayloadLength(length);
        if (signature.length != SIGNATURE_BYTES) revert SignatureLength(signature.length);
        bytes32 payloadKey = bytes32(payload[0:32]);
        if (payloadKey != workerKey) revert KeyMismatch(workerKey, payloadKey);
        if (payload[32] != 0x00) revert UnknownPayloadVersion(uint8(payload[32]));
        checkWindow(littleEndian64(payload[length - 8:length]));
        emit BindingSubmitted(workerKey, payload, signature, msg.sender);
    }

    /// Log a usage report of `workerKey` for [start, end) (ms), after the cheap checks above.
    function submitReport(
        bytes32 workerKey,
        uint64 start,
        uint64 end,
        bytes calldata report,
        bytes calldata signature
    ) external {
        uint256 length = report.length;
        if (length == 0 || length > MAX_REPORT_BYTES) revert ReportLength(length);
        if (signature.length != SIGNATURE_BYTES) revert SignatureLength(signature.length);
        if (end <= start || end - start > MAX_PERIOD_MS) revert PeriodLength(start, end);
        uint256 nowMs = block.timestamp * 1000;
        if (end > nowMs + REPORT_MAX_SKEW_MS) revert PeriodInFuture(end, nowMs);
        if (nowMs > uint256(end) + REPORT_MAX_AGE_MS) revert PeriodStale(end, nowMs);
        emit ReportSubmitted(workerKey, start, end, report, signature, msg.sender);
    }

    function checkWindow(uint64 signingTimeMs) private view {
        uint256 nowMs = block.timestamp * 1000;
        if (signingTimeMs > nowMs + MAX_SKEW_MS) revert SigningTimeInFuture(signingTimeMs, nowMs);
        if (nowMs > uint256(signingTimeMs) + MAX_AGE_MS) revert SigningTimeStale(signingTimeMs, nowMs);
    }

    /// SCALE's u64 is little-endian; swap the 8 bytes into a uint64.
    function littleEndian64(bytes calldata eight) private pure returns (uint64 v) {
        v = uint64(bytes8(eight));
        v = ((v & 0xFF00FF00FF00FF00) >> 8) | ((v & 0x00FF00FF00FF00FF) << 8);
        v = ((v & 0xFFFF0000FFFF0000) >> 16) | ((v & 0x0000FFFF0000FFFF) << 16);
        v = (v >> 32) | (v << 32);
    }
}
