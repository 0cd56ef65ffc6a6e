// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { Ownable } from "@openzeppelin/contracts/access/Ownable.sol";
import { OApp, Origin, MessagingFee, MessagingReceipt } from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";

/// @notice The part of `CollateralVault` the messenger calls when it sends a reservation.
interface ICollateralVaultCredit {
    function releaseReservedCredit(bytes32 key, uint32 dstEid) external returns (uint256 amount);
}

/**
 * @title CreditMessenger
 * @notice Moves lending capacity (credit, no tokens) between Ballast vaults over LayerZero v2: a real
 * OApp whose only peers are the messengers of the other chains (`setPeer`, owner only).
 *
 * - `sendCredit(key, dstEid, options)` (keeper): takes the local vault's reservation `key`
 *   (`CollateralVault.releaseReservedCredit`) and sends (key, amount) to the peer on `dstEid`.
 * - `_lzReceive` (the endpoint, from a peer only): records the amount as pending credit for `key`.
 * - `claimPendingCredit(key)` (the local vault, from `applyCredit`): hands pending credit to the vault.
 * - `returnCredit(key, options)` (keeper; compensation when the vault refuses to apply): sends pending
 *   credit back to the chain it came from under `returnKeyOf(key)`, where the source vault applies it.
 *
 * Message (`abi.encodePacked`, 65 bytes, big-endian):
 *
 * | offset | size | field   | meaning                                   |
 * |--------|------|---------|-------------------------------------------|
 * | 0      | 1    | version | `MESSAGE_VERSION` (1)                     |
 * | 1      | 32   | key     | rebalance id (or its return key)          |
 * | 33     | 32   | amount  | capacity, asset base units (uint256)      |
 *
 * Conservation: capacity in flight over LayerZero = Σ over messengers of `totalSent` − `totalReceived`;
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

    /// @notice Credit delivered here, keyed by the message key.
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
        if (sends[key].amount != 0) revert RebalanceIdUsed(key);
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
        if (sends[returnKey].amount != 0) revert RebalanceIdUsed(returnKey);
        uint256 amount = p.amount;
        p.status = PendingStatus.Returned;
        totalPending -= amount;
        MessagingReceipt memory receipt = _send(returnKey, p.srcEid, amount, options);
        emit CreditReturned(key, returnKey, receipt.guid, p.srcEid, amount, receipt.nonce, receipt.fee.nativeFee);
        return receipt.guid;
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
        bytes32 key = bytes32(message[1:33]);
        uint256 amount = uint256(bytes32(message[33:65]));
        totalReceived += amount;
        PendingCredit storage p = pendingCredit[key];
        if (p.status != PendingStatus.None) {
            totalOrphaned += amount;
            emit CreditOrphaned(key, guid, origin.srcEid, amount);
            return;
        }
        p.amount = amount;
        p.srcEid = origin.srcEid;
        p.status = PendingStatus.Pending;
        p.guid = guid;
        totalPending += amount;
        emit CreditReceived(key, guid, origin.srcEid, amount);
    }

    function _encode(bytes32 key, uint256 amount) private pure returns (bytes memory) {
        return abi.encodePacked(MESSAGE_VERSION, key, amount);
    }

    function _nonZero(address a) private pure returns (address) {
        if (a == address(0)) revert ZeroAddress();
        return a;
    }
}
