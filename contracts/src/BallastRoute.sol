// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { AccessControl } from "@openzeppelin/contracts/access/AccessControl.sol";
import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { IOFT, SendParam } from "@layerzerolabs/oft-evm/contracts/interfaces/IOFT.sol";
import {
    MessagingFee,
    MessagingReceipt
} from "@layerzerolabs/lz-evm-protocol-v2/contracts/interfaces/ILayerZeroEndpointV2.sol";

interface ICollateralVaultInflow {
    function depositFromRoute(bytes32 rebalanceId, uint256 amount) external;
}

/// @notice The part of `WormholeAdapter` the route calls.
interface IWormholeAdapterSend {
    function send(bytes32 rebalanceId, uint16 dstChain, uint256 amount) external payable returns (uint64 sequence);

    function messageFee() external view returns (uint256);
}

/**
 * @title BallastRoute
 * @notice The bridge leg of a Ballast rebalance on one chain. It holds tokens between the vault and
 * a bridge: the keeper sends them to the allow-listed peer route on another chain over LayerZero
 * (`send`, through the OFT) or over Wormhole (`sendWormhole`, through the `WormholeAdapter`), and on
 * arrival deposits them into the local vault (`depositToVault`).
 * @dev The only cross-chain recipient is `peerRoute[dstEid]` (LayerZero) or the adapter's
 * `peerRoute[dstChain]` (Wormhole), both set by admins, so a stolen keeper key cannot redirect funds.
 * Each rebalance id can be sent once, over either bridge.
 */
contract BallastRoute is AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to `send` and `depositToVault`.
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");

    /// @notice What a `send` did, keyed by rebalance id.
    struct SendRecord {
        bytes32 guid;
        uint32 dstEid;
        uint256 amount;
        uint64 nonce;
    }

    /// @notice What a `sendWormhole` did, keyed by rebalance id (`amount` 0 = none).
    struct WormholeSendRecord {
        uint16 dstChain;
        uint64 sequence;
        uint256 amount;
    }

    /// @notice The OFT moved by this route (also the ERC-20 it holds).
    address public immutable oft;
    /// @notice The local vault deposits go to.
    address public vault;
    /// @notice Allow-listed route on each destination endpoint id (bytes32-encoded address).
    mapping(uint32 eid => bytes32 peer) public peerRoute;
    /// @notice Sends by rebalance id.
    mapping(bytes32 rebalanceId => SendRecord) public sends;
    /// @notice Amount deposited to the vault per rebalance id (0 = none).
    mapping(bytes32 rebalanceId => uint256 amount) public depositedOf;
    /// @notice The local `WormholeAdapter` (zero = Wormhole route disabled).
    address public wormholeAdapter;
    /// @notice Wormhole sends by rebalance id.
    mapping(bytes32 rebalanceId => WormholeSendRecord) public wormholeSends;

    /// @notice The vault changed.
    event VaultSet(address indexed previousVault, address indexed newVault);
    /// @notice The allow-listed peer route for `eid` changed.
    event PeerRouteSet(uint32 indexed eid, bytes32 peer);
    /// @notice `amount` left for `dstEid` as LayerZero message `guid`.
    event RouteSent(bytes32 indexed rebalanceId, bytes32 indexed guid, uint32 dstEid, uint256 amount, uint256 nativeFee);
    /// @notice The Wormhole adapter changed.
    event WormholeAdapterSet(address indexed previousAdapter, address indexed newAdapter);
    /// @notice `amount` left for Wormhole chain `dstChain` as the adapter's message `sequence`; `fee` wei paid.
    event RouteSentWormhole(bytes32 indexed rebalanceId, uint64 indexed sequence, uint16 dstChain, uint256 amount, uint256 fee);
    /// @notice `amount` was deposited into `vault` for `rebalanceId`.
    event DepositedToVault(bytes32 indexed rebalanceId, address indexed vault, uint256 amount);

    /// @notice An address argument was the zero address.
    error ZeroAddress();
    /// @notice An amount argument was zero.
    error ZeroAmount();
    /// @notice The rebalance id was already used for this operation.
    error RebalanceIdUsed(bytes32 rebalanceId);
    /// @notice No peer route is allow-listed for `eid`.
    error NoPeerRoute(uint32 eid);
    /// @notice The route holds less than requested.
    error InsufficientBalance(uint256 requested, uint256 balance);
    /// @notice No vault is configured.
    error VaultNotSet();
    /// @notice No Wormhole adapter is configured.
    error WormholeAdapterNotSet();
    /// @notice Raised by the `WormholeAdapter` during `sendWormhole` (declared here so the route's ABI
    /// decodes it): no peer adapter and route are registered for Wormhole chain `chainId`.
    error NoPeer(uint16 chainId);
    /// @notice Raised by the `WormholeAdapter` during `sendWormhole` (declared here so the route's ABI
    /// decodes it): `msg.value` is not the core's `messageFee()` (quote it with `quoteSendWormhole`).
    error WrongMessageFee(uint256 required, uint256 provided);

    /**
     * @param oft_ The OFT this route moves.
     * @param admin Receives `DEFAULT_ADMIN_ROLE`.
     * @dev Reverts `ZeroAddress` if either is zero.
     */
    constructor(address oft_, address admin) {
        if (oft_ == address(0) || admin == address(0)) revert ZeroAddress();
        oft = oft_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ admin

    /**
     * @notice Sets the local vault.
     * @dev Only `DEFAULT_ADMIN_ROLE`. Emits `VaultSet`.
     */
    function setVault(address newVault) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit VaultSet(vault, newVault);
        vault = newVault;
    }

    /**
     * @notice Allow-lists `peer` (a route contract, left-padded to 32 bytes) as the recipient on `eid`;
     * zero removes it.
     * @dev Only `DEFAULT_ADMIN_ROLE`. Emits `PeerRouteSet`.
     */
    function setPeerRoute(uint32 eid, bytes32 peer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        peerRoute[eid] = peer;
        emit PeerRouteSet(eid, peer);
    }

    /**
     * @notice Sets the local `WormholeAdapter` (zero disables `sendWormhole`).
     * @dev Only `DEFAULT_ADMIN_ROLE`. Emits `WormholeAdapterSet`.
     */
    function setWormholeAdapter(address newAdapter) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit WormholeAdapterSet(wormholeAdapter, newAdapter);
        wormholeAdapter = newAdapter;
    }

    // ------------------------------------------------------------------ keeper

    /**
     * @notice Sends `amount` of the OFT held by this route to the peer route on `dstEid`.
     * @dev Only `KEEPER_ROLE`. `msg.value` is the native fee (quote it with `quoteSend`); the
     * endpoint refunds any excess to the caller. Reverts `ZeroAmount`, `RebalanceIdUsed(rebalanceId)`,
     * `NoPeerRoute(dstEid)`, `InsufficientBalance(requested, balance)`, and any OFT/endpoint error
     * (e.g. `NotEnoughNative`, `LZ_InsufficientFee`). Emits `RouteSent`.
     * @param rebalanceId The keeper's id for this rebalance (once per route).
     * @param dstEid Destination LayerZero endpoint id.
     * @param amount Amount in token base units (no dust: shared decimals equal local decimals).
     * @param options LayerZero type-3 options, e.g. an executor lzReceive gas option.
     * @return guid The LayerZero message guid.
     */
    function send(
        bytes32 rebalanceId,
        uint32 dstEid,
        uint256 amount,
        bytes calldata options
    ) external payable onlyRole(KEEPER_ROLE) returns (bytes32 guid) {
        if (amount == 0) revert ZeroAmount();
        if (_sent(rebalanceId)) revert RebalanceIdUsed(rebalanceId);
        bytes32 peer = peerRoute[dstEid];
        if (peer == bytes32(0)) revert NoPeerRoute(dstEid);
        uint256 balance = IERC20(oft).balanceOf(address(this));
        if (amount > balance) revert InsufficientBalance(amount, balance);

        // Effects before the interaction: the id is marked used before the OFT is called.
        SendRecord storage record = sends[rebalanceId];
        record.dstEid = dstEid;
        record.amount = amount;

        (MessagingReceipt memory receipt, ) = IOFT(oft).send{ value: msg.value }(
            SendParam(dstEid, peer, amount, amount, options, "", ""),
            MessagingFee(msg.value, 0),
            msg.sender
        );
        record.guid = receipt.guid;
        record.nonce = receipt.nonce;
        emit RouteSent(rebalanceId, receipt.guid, dstEid, amount, receipt.fee.nativeFee);
        return receipt.guid;
    }

    /**
     * @notice Sends `amount` of the token held by this route over Wormhole to the adapter's peer route
     * on Wormhole chain `dstChain` (burn here, mint there when the VAA is redeemed).
     * @dev Only `KEEPER_ROLE`. `msg.value` must equal `quoteSendWormhole()`. Reverts `ZeroAmount`,
     * `RebalanceIdUsed(rebalanceId)` (also when the id was sent over LayerZero), `WormholeAdapterNotSet`,
     * `InsufficientBalance(requested, balance)`, and the adapter's errors (`NoPeer(dstChain)`,
     * `WrongMessageFee(required, provided)`). Emits `RouteSentWormhole` (and the adapter's `WormholeSent`).
     * @param rebalanceId The keeper's id for this rebalance (once per route, across both bridges).
     * @param dstChain Destination Wormhole chain id (e.g. 23 = Arbitrum).
     * @param amount Amount in token base units.
     * @return sequence The Wormhole sequence of the message (emitter: the adapter); the VAA is
     * `(this chain's Wormhole id, adapter, sequence)`.
     */
    function sendWormhole(
        bytes32 rebalanceId,
        uint16 dstChain,
        uint256 amount
    ) external payable onlyRole(KEEPER_ROLE) returns (uint64 sequence) {
        if (amount == 0) revert ZeroAmount();
        if (_sent(rebalanceId)) revert RebalanceIdUsed(rebalanceId);
        address adapter = wormholeAdapter;
        if (adapter == address(0)) revert WormholeAdapterNotSet();
        uint256 balance = IERC20(oft).balanceOf(address(this));
        if (amount > balance) revert InsufficientBalance(amount, balance);

        // Effects before the interaction: the id is marked used before the adapter is called.
        WormholeSendRecord storage record = wormholeSends[rebalanceId];
        record.dstChain = dstChain;
        record.amount = amount;

        IERC20(oft).forceApprove(adapter, amount);
        sequence = IWormholeAdapterSend(adapter).send{ value: msg.value }(rebalanceId, dstChain, amount);
        record.sequence = sequence;
        emit RouteSentWormhole(rebalanceId, sequence, dstChain, amount, msg.value);
    }

    /**
     * @notice Deposits `amount` held by this route into the local vault for `rebalanceId`.
     * @dev Only `KEEPER_ROLE`. Reverts `ZeroAmount`, `VaultNotSet`, `RebalanceIdUsed(rebalanceId)`,
     * `InsufficientBalance(requested, balance)`, and the vault's errors (`InflowPaused`, ...).
     * Emits `DepositedToVault`.
     */
    function depositToVault(bytes32 rebalanceId, uint256 amount) external onlyRole(KEEPER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        address vault_ = vault;
        if (vault_ == address(0)) revert VaultNotSet();
        if (depositedOf[rebalanceId] != 0) revert RebalanceIdUsed(rebalanceId);
        uint256 balance = IERC20(oft).balanceOf(address(this));
        if (amount > balance) revert InsufficientBalance(amount, balance);

        depositedOf[rebalanceId] = amount;
        emit DepositedToVault(rebalanceId, vault_, amount);
        IERC20(oft).forceApprove(vault_, amount);
        ICollateralVaultInflow(vault_).depositFromRoute(rebalanceId, amount);
    }

    // ------------------------------------------------------------------ views

    /**
     * @notice Native fee to pass as `msg.value` to `send` for these arguments.
     * @dev Anyone may call. Reverts `NoPeerRoute(dstEid)` and any OFT/endpoint quote error.
     */
    function quoteSend(uint32 dstEid, uint256 amount, bytes calldata options) external view returns (uint256 nativeFee) {
        bytes32 peer = peerRoute[dstEid];
        if (peer == bytes32(0)) revert NoPeerRoute(dstEid);
        MessagingFee memory fee = IOFT(oft).quoteSend(SendParam(dstEid, peer, amount, amount, options, "", ""), false);
        return fee.nativeFee;
    }

    /**
     * @notice Native fee to pass as `msg.value` to `sendWormhole`: the Wormhole core's `messageFee()`.
     * @dev Anyone may call. Reverts `WormholeAdapterNotSet`.
     */
    function quoteSendWormhole() external view returns (uint256 fee) {
        address adapter = wormholeAdapter;
        if (adapter == address(0)) revert WormholeAdapterNotSet();
        return IWormholeAdapterSend(adapter).messageFee();
    }

    /// @dev True when `rebalanceId` was already sent over either bridge.
    function _sent(bytes32 rebalanceId) private view returns (bool) {
        return sends[rebalanceId].amount != 0 || wormholeSends[rebalanceId].amount != 0;
    }
}
