// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { Ownable } from "@openzeppelin/contracts/access/Ownable.sol";
import { OApp, Origin, MessagingFee, MessagingReceipt } from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";
import { IWormhole } from "./interfaces/IWormhole.sol";

/// @notice The part of `CollateralVault` the messenger calls when it sends a reservation.
interface ICollateralVaultCredit {
    function releaseReservedCredit(bytes32 key, uint32 dstEid) external returns (uint256 amount);
}

/**
 * @title CreditMessenger
 * @notice Moves lending capacity (credit, no tokens) between Ballast vaults over either bridge:
 * LayerZero v2 (a real OApp whose only peers are the messengers of the other chains, `setPeer`) or
 * Wormhole (this contract is its own emitter on the core; peers by Wormhole chain id, `setWormholePeer`,
 * each mapped to the LayerZero eid that names the chain in the vault's credit lines).
 *
 * - `sendCredit(key, dstEid, options)` (keeper): takes the local vault's reservation `key`
 *   (`CollateralVault.releaseReservedCredit`) and sends (key, amount) to the peer on `dstEid`.
 * - `_lzReceive` (the endpoint, from a peer only): records the amount as pending credit for `key`.
 * - `claimPendingCredit(key)` (the local vault, from `applyCredit`): hands pending credit to the vault.
 * - `returnCredit(key, options)` (keeper; compensation when the vault refuses to apply): sends pending
 *   credit back to the chain it came from under `returnKeyOf(key)`, where the source vault applies it.
 * - Wormhole: `sendCreditWormhole(key, dstEid)` / `returnCreditWormhole(key)` publish the message on the
 *   core; anyone redeems the guardian-signed VAA on the destination with `receiveCreditVaa(vaa)` (once,
 *   from the registered peer, for this chain and this contract), which records pending credit as above.
 *   A key is sent once from a messenger, over either bridge.
 *
 * Message (`abi.encodePacked`, 65 bytes, big-endian):
 *
 * | offset | size | field   | meaning                                   |
 * |--------|------|---------|-------------------------------------------|
 * | 0      | 1    | version | `MESSAGE_VERSION` (1)                     |
 * | 1      | 32   | key     | rebalance id (or its return key)          |
 * | 33     | 32   | amount  | capacity, asset base units (uint256)      |
 *
 * Wormhole payload (`abi.encodePacked`, 99 bytes): the 65 bytes above, then `dstChain` (uint16, the
 * destination's Wormhole chain id) and `recipient` (bytes32, the peer messenger), since a Wormhole
 * message is not addressed by the transport.
 *
 * Conservation: capacity in flight (either bridge) = Σ over messengers of `totalSent` − `totalReceived`;
 * capacity delivered but not applied = Σ `totalPending`; a message for a key that already has pending
 * credit here (only a misbehaving keeper can cause it) is never lost and never blocks the path: it is
 * counted in `totalOrphaned` and reported by `CreditOrphaned`, for the admin to resolve.
 *
 * @dev A keeper key can only move reserved credit to an allow-listed peer, and send back credit that
 * arrived here: it cannot create capacity. `owner` is also the OApp delegate on the endpoint.
 */
contract CreditMessenger is OApp {
    /// @notice Version byte at offset 0 of every message.
    uint8 public constant MESSAGE_VERSION = 1;
    /// @notice Length in bytes of a version-1 message.
    uint256 public constant MESSAGE_LENGTH = 65;
    /// @notice Length in bytes of a version-1 Wormhole payload (message + dstChain + recipient).
    uint256 public constant WORMHOLE_PAYLOAD_LENGTH = 99;

    /// @notice Lifecycle of credit delivered here: `Pending` → `Applied` (claimed by the vault) or `Returned`.
    enum PendingStatus {
        None,
        Pending,
        Applied,
        Returned
    }

    /// @notice What a send did, keyed by the message key (`amount` 0 = nothing sent).
    struct CreditSend {
        bytes32 guid;
        uint32 dstEid;
        uint256 amount;
        uint64 nonce;
    }

    /// @notice What a Wormhole send did, keyed by the message key (`amount` 0 = nothing sent).
    struct WormholeCreditSend {
        uint32 dstEid;
        uint16 dstChain;
        uint64 sequence;
        uint256 amount;
    }

    /// @notice Credit delivered here (over either bridge), keyed by the message key; `guid` is the
    /// LayerZero guid or the Wormhole VAA hash.
    struct PendingCredit {
        uint256 amount;
        uint32 srcEid;
        PendingStatus status;
        bytes32 guid;
    }

    /// @notice The local vault: the source of reservations and the only claimer of pending credit.
    address public vault;
    /// @notice Accounts allowed to `sendCredit` and `returnCredit`.
    mapping(address account => bool allowed) public isKeeper;
    /// @notice Sends by message key.
    mapping(bytes32 key => CreditSend) public sends;
    /// @notice Credit delivered here by message key.
    mapping(bytes32 key => PendingCredit) public pendingCredit;
    /// @notice Credit sent by this messenger, cumulative (base units).
    uint256 public totalSent;
    /// @notice Credit delivered to this messenger, cumulative, orphans included (base units).
    uint256 public totalReceived;
    /// @notice Wormhole sends by message key.
    mapping(bytes32 key => WormholeCreditSend) public wormholeSends;
    /// @notice The Wormhole core (zero = Wormhole disabled).
    IWormhole public wormhole;
    /// @notice This chain's Wormhole chain id (read from the core by `setWormhole`).
    uint16 public wormholeChainId;
    /// @notice Consistency level of published messages (Wormhole EVM: 1 = finalized).
    uint8 public wormholeConsistencyLevel;
    /// @notice The peer messenger (left-padded) per Wormhole chain id: the only accepted emitter and recipient.
    mapping(uint16 whChain => bytes32 peer) public wormholePeer;
    /// @notice The LayerZero eid that names a Wormhole chain in the credit lines.
    mapping(uint16 whChain => uint32 eid) public eidOfWormholeChain;
    /// @notice The Wormhole chain id of a LayerZero eid (for `sendCreditWormhole(key, dstEid)`).
    mapping(uint32 eid => uint16 whChain) public wormholeChainOfEid;
    /// @notice VAA hashes already redeemed here.
    mapping(bytes32 vmHash => bool) public consumedVaa;
    /// @notice Credit delivered here with status `Pending` now (base units).
    uint256 public totalPending;
    /// @notice Credit delivered for a key that already had credit here, held for the admin (base units).
    uint256 public totalOrphaned;

    /// @notice The vault changed.
    event VaultSet(address indexed previousVault, address indexed newVault);
    /// @notice `account` was allowed (`allowed`) or disallowed as keeper.
    event KeeperSet(address indexed account, bool allowed);
    /// @notice Reservation `key` (`amount`) left for `dstEid` as LayerZero message `guid`; `nativeFee` wei paid.
    event CreditSent(bytes32 indexed key, bytes32 indexed guid, uint32 dstEid, uint256 amount, uint64 nonce, uint256 nativeFee);
    /// @notice Pending credit `key` went back to `dstEid` under `returnKey` as message `guid`.
    event CreditReturned(bytes32 indexed key, bytes32 indexed returnKey, bytes32 indexed guid, uint32 dstEid, uint256 amount, uint64 nonce, uint256 nativeFee);
    /// @notice Message `guid` from `srcEid` delivered `amount` of credit for `key` (now pending).
    event CreditReceived(bytes32 indexed key, bytes32 indexed guid, uint32 srcEid, uint256 amount);
    /// @notice The vault claimed pending credit `key`.
    event CreditClaimed(bytes32 indexed key, uint32 srcEid, uint256 amount);
    /// @notice Message `guid` from `srcEid` carried `amount` for `key`, which already had credit here: held as orphaned.
    event CreditOrphaned(bytes32 indexed key, bytes32 indexed guid, uint32 srcEid, uint256 amount);

    /// @notice The Wormhole core was set (`chainId` read from it).
    event WormholeSet(address indexed core, uint16 chainId, uint8 consistencyLevel);
    /// @notice The Wormhole peer for `whChain` (named `eid` in credit lines) changed (zero = removed).
    event WormholePeerSet(uint16 indexed whChain, uint32 indexed eid, bytes32 peer);
    /// @notice Reservation `key` (`amount`) left for `dstEid` (Wormhole chain `dstChain`) as Wormhole message `sequence`.
    event CreditSentWormhole(bytes32 indexed key, uint64 indexed sequence, uint32 dstEid, uint16 dstChain, uint256 amount, uint256 fee);
    /// @notice Pending credit `key` went back to `dstEid` under `returnKey` as Wormhole message `sequence`.
    event CreditReturnedWormhole(bytes32 indexed key, bytes32 indexed returnKey, uint64 indexed sequence, uint32 dstEid, uint16 dstChain, uint256 amount, uint256 fee);
    /// @notice The VAA (`emitterChain`, `sequence`, hash `vmHash`) carrying credit `key` was redeemed here.
    event WormholeCreditRedeemed(bytes32 indexed key, uint16 indexed emitterChain, uint64 indexed sequence, bytes32 vmHash);

    /// @notice An address argument was the zero address.
    error ZeroAddress();
    /// @notice `caller` is not an allowed keeper.
    error NotKeeper(address caller);
    /// @notice `caller` is not the local vault.
    error NotVault(address caller);
    /// @notice No vault is configured.
    error VaultNotSet();
    /// @notice The key was already used for a send from this messenger.
    error RebalanceIdUsed(bytes32 key);
    /// @notice No credit with status `Pending` under `key` (never delivered, already applied or returned).
    error CreditNotPending(bytes32 key, PendingStatus status);
    /// @notice A received message is not `MESSAGE_LENGTH` bytes.
    error InvalidCreditMessage(uint256 length);
    /// @notice A received message's version byte is not `MESSAGE_VERSION`.
    error UnsupportedMessageVersion(uint8 version);
    /// @notice No Wormhole core is set.
    error WormholeNotSet();
    /// @notice No Wormhole peer is registered for the chain of `eid`.
    error NoWormholePeer(uint32 eid);
    /// @notice `whChain` or `eid` is invalid for a Wormhole peer (zero, or this chain).
    error InvalidWormholePeer(uint16 whChain, uint32 eid);
    /// @notice `msg.value` must equal the core's `messageFee()`.
    error WrongMessageFee(uint256 required, uint256 provided);
    /// @notice The core rejected the VAA (bad signature, unknown guardian set, unparseable ...).
    error InvalidVaa(string reason);
    /// @notice The VAA's emitter is not the registered peer of its chain.
    error UnknownEmitter(uint16 emitterChainId, bytes32 emitterAddress);
    /// @notice The VAA was already redeemed here.
    error VaaAlreadyConsumed(bytes32 vmHash);
    /// @notice The payload is for another Wormhole chain.
    error WrongDestination(uint16 dstChain, uint16 thisChain);
    /// @notice The payload's recipient is not this messenger.
    error WrongRecipient(bytes32 recipient, bytes32 expected);

    /**
     * @param endpoint_ The local LayerZero EndpointV2.
     * @param owner_ Owner and endpoint delegate (sets peers, vault, keepers).
     * @dev Reverts `ZeroAddress` for a zero endpoint; the OApp reverts `InvalidDelegate` for a zero owner.
     */
    constructor(address endpoint_, address owner_) OApp(_nonZero(endpoint_), owner_) Ownable(owner_) {}

    modifier onlyKeeper() {
        if (!isKeeper[msg.sender]) revert NotKeeper(msg.sender);
        _;
    }

    // ------------------------------------------------------------------ admin

    /**
     * @notice Sets the local vault.
     * @dev Only the owner. Emits `VaultSet`.
     */
    function setVault(address newVault) external onlyOwner {
        emit VaultSet(vault, newVault);
        vault = newVault;
    }

    /**
     * @notice Allows or disallows `account` to send and return credit.
     * @dev Only the owner. Reverts `ZeroAddress`. Emits `KeeperSet`.
     */
    function setKeeper(address account, bool allowed) external onlyOwner {
        if (account == address(0)) revert ZeroAddress();
        isKeeper[account] = allowed;
        emit KeeperSet(account, allowed);
    }

    /**
     * @notice Sets the Wormhole core (its `chainId()` is read here) and the consistency level of published
     * messages; a zero core disables Wormhole.
     * @dev Only the owner. Emits `WormholeSet`.
     */
    function setWormhole(address core, uint8 consistencyLevel) external onlyOwner {
        wormhole = IWormhole(core);
        wormholeChainId = core == address(0) ? 0 : IWormhole(core).chainId();
        wormholeConsistencyLevel = consistencyLevel;
        emit WormholeSet(core, wormholeChainId, consistencyLevel);
    }

    /**
     * @notice Registers the peer messenger (left-padded) on Wormhole chain `whChain`, the chain the
     * LayerZero eid `eid` names in credit lines; a zero `peer` removes it.
     * @dev Only the owner. Reverts `InvalidWormholePeer` for a zero chain or eid, or this chain. Emits `WormholePeerSet`.
     */
    function setWormholePeer(uint16 whChain, uint32 eid, bytes32 peer) external onlyOwner {
        if (whChain == 0 || eid == 0 || whChain == wormholeChainId) revert InvalidWormholePeer(whChain, eid);
        wormholePeer[whChain] = peer;
        eidOfWormholeChain[whChain] = peer == bytes32(0) ? 0 : eid;
        wormholeChainOfEid[eid] = peer == bytes32(0) ? 0 : whChain;
        emit WormholePeerSet(whChain, eid, peer);
    }

    // ------------------------------------------------------------------ keeper

    /**
     * @notice Sends the local vault's reservation `key` to the peer messenger on `dstEid`.
     * @dev Only a keeper. `msg.value` is the native fee (`quoteSend`); the endpoint refunds any excess
     * to the caller. Reverts `NotKeeper`, `VaultNotSet`, `RebalanceIdUsed(key)`, the OApp's
     * `NoPeer(dstEid)`, the vault's `CreditNotReserved(key, status)` / `OutflowPaused`, and the
     * endpoint's fee errors. Emits `CreditSent` (and the vault's `CreditReleased`).
     * @param key The rebalance id the vault reserved under.
     * @param dstEid Destination LayerZero endpoint id.
     * @param options LayerZero type-3 options (executor lzReceive gas).
     * @return guid The LayerZero message guid.
     */
    function sendCredit(bytes32 key, uint32 dstEid, bytes calldata options) external payable onlyKeeper returns (bytes32 guid) {
        address vault_ = vault;
        if (vault_ == address(0)) revert VaultNotSet();
        if (_sent(key)) revert RebalanceIdUsed(key);
        _getPeerOrRevert(dstEid);
        uint256 amount = ICollateralVaultCredit(vault_).releaseReservedCredit(key, dstEid);
        MessagingReceipt memory receipt = _send(key, dstEid, amount, options);
        emit CreditSent(key, receipt.guid, dstEid, amount, receipt.nonce, receipt.fee.nativeFee);
        return receipt.guid;
    }

    /**
     * @notice Compensation when the vault will not apply delivered credit: sends pending credit `key`
     * back to the chain it came from, under `returnKeyOf(key)`.
     * @dev Only a keeper. `msg.value` is the native fee (`quoteSend`). Reverts `NotKeeper`,
     * `CreditNotPending(key, status)`, `RebalanceIdUsed(returnKey)`, the OApp's `NoPeer`, and the
     * endpoint's fee errors. Emits `CreditReturned`.
     * @return guid The LayerZero message guid of the return.
     */
    function returnCredit(bytes32 key, bytes calldata options) external payable onlyKeeper returns (bytes32 guid) {
        PendingCredit storage p = pendingCredit[key];
        if (p.status != PendingStatus.Pending) revert CreditNotPending(key, p.status);
        bytes32 returnKey = returnKeyOf(key);
        if (_sent(returnKey)) revert RebalanceIdUsed(returnKey);
        uint256 amount = p.amount;
        p.status = PendingStatus.Returned;
        totalPending -= amount;
        MessagingReceipt memory receipt = _send(returnKey, p.srcEid, amount, options);
        emit CreditReturned(key, returnKey, receipt.guid, p.srcEid, amount, receipt.nonce, receipt.fee.nativeFee);
        return receipt.guid;
    }

    /**
     * @notice Sends the local vault's reservation `key` over Wormhole to the peer messenger on the chain of `dstEid`.
     * @dev Only a keeper. `msg.value` must equal `quoteSendWormhole()`. Reverts `NotKeeper`, `VaultNotSet`,
     * `WormholeNotSet`, `RebalanceIdUsed(key)` (also when sent over LayerZero), `NoWormholePeer(dstEid)`,
     * `WrongMessageFee(required, provided)`, the vault's `CreditNotReserved` / `OutflowPaused`.
     * Emits `CreditSentWormhole` (and the vault's `CreditReleased`).
     * @return sequence The core's sequence of the message (emitter: this contract).
     */
    function sendCreditWormhole(bytes32 key, uint32 dstEid) external payable onlyKeeper returns (uint64 sequence) {
        address vault_ = vault;
        if (vault_ == address(0)) revert VaultNotSet();
        if (_sent(key)) revert RebalanceIdUsed(key);
        uint16 dstChain = _wormholeChainOrRevert(dstEid);
        uint256 amount = ICollateralVaultCredit(vault_).releaseReservedCredit(key, dstEid);
        sequence = _publish(key, dstEid, dstChain, amount);
        emit CreditSentWormhole(key, sequence, dstEid, dstChain, amount, msg.value);
    }

    /**
     * @notice Compensation over Wormhole: sends pending credit `key` back to the chain it came from, under `returnKeyOf(key)`.
     * @dev Only a keeper. `msg.value` must equal `quoteSendWormhole()`. Reverts `NotKeeper`,
     * `CreditNotPending(key, status)`, `RebalanceIdUsed(returnKey)`, `WormholeNotSet`, `NoWormholePeer`,
     * `WrongMessageFee`. Emits `CreditReturnedWormhole`.
     * @return sequence The core's sequence of the message.
     */
    function returnCreditWormhole(bytes32 key) external payable onlyKeeper returns (uint64 sequence) {
        PendingCredit storage p = pendingCredit[key];
        if (p.status != PendingStatus.Pending) revert CreditNotPending(key, p.status);
        bytes32 returnKey = returnKeyOf(key);
        if (_sent(returnKey)) revert RebalanceIdUsed(returnKey);
        uint32 dstEid = p.srcEid;
        uint16 dstChain = _wormholeChainOrRevert(dstEid);
        uint256 amount = p.amount;
        p.status = PendingStatus.Returned;
        totalPending -= amount;
        sequence = _publish(returnKey, dstEid, dstChain, amount);
        emit CreditReturnedWormhole(key, returnKey, sequence, dstEid, dstChain, amount, msg.value);
    }

    /**
     * @notice Redeems a guardian-signed VAA of a peer messenger: records its credit as pending here.
     * @dev Anyone may call (the VAA is the authorization). Checks, in order: `WormholeNotSet`; the core
     * verifies it (`InvalidVaa(reason)`); the emitter is the registered peer of its chain
     * (`UnknownEmitter`); not redeemed before (`VaaAlreadyConsumed`); the payload layout
     * (`InvalidCreditMessage`, `UnsupportedMessageVersion`); for this chain (`WrongDestination`) and this
     * messenger (`WrongRecipient`). A key that already has credit here is held as orphaned (as over
     * LayerZero). Emits `WormholeCreditRedeemed` and `CreditReceived` (guid = the VAA hash) or `CreditOrphaned`.
     * @return key The message key. @return amount The credit it carried (base units).
     */
    function receiveCreditVaa(bytes calldata encodedVm) external returns (bytes32 key, uint256 amount) {
        IWormhole core = wormhole;
        if (address(core) == address(0)) revert WormholeNotSet();
        IWormhole.VM memory vm = _verify(core, encodedVm);
        bytes32 peer = wormholePeer[vm.emitterChainId];
        if (peer == bytes32(0) || vm.emitterAddress != peer) revert UnknownEmitter(vm.emitterChainId, vm.emitterAddress);
        if (consumedVaa[vm.hash]) revert VaaAlreadyConsumed(vm.hash);
        bytes memory payload = vm.payload;
        if (payload.length != WORMHOLE_PAYLOAD_LENGTH) revert InvalidCreditMessage(payload.length);
        if (uint8(payload[0]) != MESSAGE_VERSION) revert UnsupportedMessageVersion(uint8(payload[0]));
        uint16 dstChain;
        bytes32 recipient;
        assembly ("memory-safe") {
            let q := add(payload, 32)
            key := mload(add(q, 1))
            amount := mload(add(q, 33))
            dstChain := shr(240, mload(add(q, 65)))
            recipient := mload(add(q, 67))
        }
        if (dstChain != wormholeChainId) revert WrongDestination(dstChain, wormholeChainId);
        bytes32 self = bytes32(uint256(uint160(address(this))));
        if (recipient != self) revert WrongRecipient(recipient, self);
        consumedVaa[vm.hash] = true;
        emit WormholeCreditRedeemed(key, vm.emitterChainId, vm.sequence, vm.hash);
        _record(key, amount, eidOfWormholeChain[vm.emitterChainId], vm.hash);
    }

    // ------------------------------------------------------------------ vault

    /**
     * @notice Hands pending credit `key` to the vault (from `CollateralVault.applyCredit`).
     * @dev Only the local vault (`NotVault(caller)` otherwise). Reverts `CreditNotPending(key, status)`.
     * Emits `CreditClaimed`.
     * @return amount Base units claimed.
     * @return srcEid The chain the credit came from.
     */
    function claimPendingCredit(bytes32 key) external returns (uint256 amount, uint32 srcEid) {
        if (msg.sender != vault || msg.sender == address(0)) revert NotVault(msg.sender);
        PendingCredit storage p = pendingCredit[key];
        if (p.status != PendingStatus.Pending) revert CreditNotPending(key, p.status);
        p.status = PendingStatus.Applied;
        amount = p.amount;
        srcEid = p.srcEid;
        totalPending -= amount;
        emit CreditClaimed(key, srcEid, amount);
    }

    // ------------------------------------------------------------------ views

    /**
     * @notice Native fee to pass as `msg.value` to `sendCredit` / `returnCredit` towards `dstEid`.
     * @dev Anyone may call. Reverts the OApp's `NoPeer(dstEid)` and any endpoint quote error.
     */
    function quoteSend(uint32 dstEid, bytes calldata options) external view returns (uint256 nativeFee) {
        return _quote(dstEid, _encode(bytes32(0), 0), options, false).nativeFee;
    }

    /**
     * @notice Native fee to pass as `msg.value` to `sendCreditWormhole` / `returnCreditWormhole`: the core's `messageFee()`.
     * @dev Reverts `WormholeNotSet`.
     */
    function quoteSendWormhole() external view returns (uint256 fee) {
        IWormhole core = wormhole;
        if (address(core) == address(0)) revert WormholeNotSet();
        return core.messageFee();
    }

    /// @notice The key credit returned from pending `key` travels under: keccak256(abi.encodePacked(key, "return")).
    function returnKeyOf(bytes32 key) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(key, "return"));
    }

    // ------------------------------------------------------------------ internals

    /// @dev Records and sends (key, amount) to `dstEid`, paying `msg.value`, refund to the caller.
    function _send(bytes32 key, uint32 dstEid, uint256 amount, bytes calldata options) private returns (MessagingReceipt memory receipt) {
        CreditSend storage record = sends[key];
        record.dstEid = dstEid;
        record.amount = amount;
        totalSent += amount;
        receipt = _lzSend(dstEid, _encode(key, amount), options, MessagingFee(msg.value, 0), msg.sender);
        record.guid = receipt.guid;
        record.nonce = receipt.nonce;
    }

    /// @dev Called by `OAppReceiver.lzReceive` after the endpoint and peer checks.
    function _lzReceive(Origin calldata origin, bytes32 guid, bytes calldata message, address, bytes calldata) internal override {
        if (message.length != MESSAGE_LENGTH) revert InvalidCreditMessage(message.length);
        uint8 version = uint8(message[0]);
        if (version != MESSAGE_VERSION) revert UnsupportedMessageVersion(version);
        _record(bytes32(message[1:33]), uint256(bytes32(message[33:65])), origin.srcEid, guid);
    }

    /// @dev Records delivered credit as pending for `key`, or as orphaned when `key` already has credit here.
    function _record(bytes32 key, uint256 amount, uint32 srcEid, bytes32 guid) private {
        totalReceived += amount;
        PendingCredit storage p = pendingCredit[key];
        if (p.status != PendingStatus.None) {
            totalOrphaned += amount;
            emit CreditOrphaned(key, guid, srcEid, amount);
            return;
        }
        p.amount = amount;
        p.srcEid = srcEid;
        p.status = PendingStatus.Pending;
        p.guid = guid;
        totalPending += amount;
        emit CreditReceived(key, guid, srcEid, amount);
    }

    /// @dev True when `key` was already sent from here over either bridge.
    function _sent(bytes32 key) private view returns (bool) {
        return sends[key].amount != 0 || wormholeSends[key].amount != 0;
    }

    /// @dev The Wormhole chain of `dstEid`, reverting `WormholeNotSet` / `NoWormholePeer(dstEid)`.
    function _wormholeChainOrRevert(uint32 dstEid) private view returns (uint16 dstChain) {
        if (address(wormhole) == address(0)) revert WormholeNotSet();
        dstChain = wormholeChainOfEid[dstEid];
        if (dstChain == 0 || wormholePeer[dstChain] == bytes32(0)) revert NoWormholePeer(dstEid);
    }

    /// @dev Records and publishes (key, amount, dstChain, peer) on the core, paying exactly its fee.
    function _publish(bytes32 key, uint32 dstEid, uint16 dstChain, uint256 amount) private returns (uint64 sequence) {
        uint256 fee = wormhole.messageFee();
        if (msg.value != fee) revert WrongMessageFee(fee, msg.value);
        WormholeCreditSend storage record = wormholeSends[key];
        record.dstEid = dstEid;
        record.dstChain = dstChain;
        record.amount = amount;
        totalSent += amount;
        sequence = wormhole.publishMessage{ value: fee }(0, abi.encodePacked(MESSAGE_VERSION, key, amount, dstChain, wormholePeer[dstChain]), wormholeConsistencyLevel);
        record.sequence = sequence;
    }

    /// @dev `parseAndVerifyVM`, with every rejection (invalid, or a revert while parsing) as `InvalidVaa`.
    function _verify(IWormhole core, bytes calldata encodedVm) private view returns (IWormhole.VM memory vm) {
        bool valid;
        string memory reason;
        try core.parseAndVerifyVM(encodedVm) returns (IWormhole.VM memory vm_, bool valid_, string memory reason_) {
            (vm, valid, reason) = (vm_, valid_, reason_);
        } catch Error(string memory parseError) {
            revert InvalidVaa(parseError);
        } catch {
            revert InvalidVaa("unparseable VAA");
        }
        if (!valid) revert InvalidVaa(reason);
    }

    function _encode(bytes32 key, uint256 amount) private pure returns (bytes memory) {
        return abi.encodePacked(MESSAGE_VERSION, key, amount);
    }

    function _nonZero(address a) private pure returns (address) {
        if (a == address(0)) revert ZeroAddress();
        return a;
    }
}
