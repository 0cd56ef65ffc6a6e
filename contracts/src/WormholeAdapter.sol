// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { Ownable } from "@openzeppelin/contracts/access/Ownable.sol";
import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { IWormhole } from "./interfaces/IWormhole.sol";

/// @notice What the adapter needs from the Ballast token: mint and burn rights granted to it alone.
interface IWormholeMintableToken {
    function wormholeMint(address to, uint256 amount) external;

    function wormholeBurn(uint256 amount) external;
}

/**
 * @title WormholeAdapter
 * @notice Ballast's burn-and-mint Wormhole route for the collateral token on one chain. The local
 * `BallastRoute` sends through it (`send`: burn, then publish a Wormhole message); anyone (in practice
 * the keeper) redeems a guardian-signed VAA of a peer adapter on the destination (`receiveMessage`:
 * verify with the core, then mint to the local route).
 *
 * Message payload (`abi.encodePacked`, 99 bytes, big-endian):
 *
 * | offset | size | field       | meaning                                                      |
 * |--------|------|-------------|--------------------------------------------------------------|
 * | 0      | 1    | version     | `PAYLOAD_VERSION` (1)                                        |
 * | 1      | 32   | rebalanceId | the keeper's rebalance id                                    |
 * | 33     | 32   | amount      | token base units (uint256)                                   |
 * | 65     | 2    | dstChain    | destination Wormhole chain id (uint16)                       |
 * | 67     | 32   | recipient   | the peer route on `dstChain`, address left-padded to bytes32 |
 *
 * The VAA's emitter is this adapter (chain = `wormholeChainId`, address = this contract left-padded).
 *
 * @dev Funds can only go to the owner-registered `peerRoute[dstChain]`, and a VAA is accepted only
 * from the owner-registered `peerAdapter[emitterChainId]`, once (by VAA hash), for this chain, and
 * for the local `route`. The token lets this adapter mint, and burn only its own balance.
 */
contract WormholeAdapter is Ownable {
    using SafeERC20 for IERC20;

    /// @notice Version byte at offset 0 of every payload this adapter writes and accepts.
    uint8 public constant PAYLOAD_VERSION = 1;
    /// @notice Length in bytes of a version-1 payload.
    uint256 public constant PAYLOAD_LENGTH = 99;

    /// @notice The Wormhole core contract (proxy) on this chain.
    IWormhole public immutable wormhole;
    /// @notice The token burnt and minted (the Ballast OFT).
    address public immutable token;
    /// @notice This chain's Wormhole chain id, read from the core at construction.
    uint16 public immutable wormholeChainId;
    /// @notice Consistency level of published messages (Wormhole EVM: 1 = finalized, 200 = instant, 201 = safe).
    uint8 public immutable consistencyLevel;

    /// @notice The local route: the only caller of `send` and the only recipient of mints.
    address public route;
    /// @notice Registered peer adapter (the expected VAA emitter) per Wormhole chain id, left-padded.
    mapping(uint16 wormholeChainId => bytes32 adapter) public peerAdapter;
    /// @notice The route on each Wormhole chain that sends go to, left-padded.
    mapping(uint16 wormholeChainId => bytes32 route) public peerRoute;
    /// @notice VAA hashes (the core's `vm.hash`) already redeemed here.
    mapping(bytes32 vmHash => bool) public consumed;
    /// @notice Amount minted to the route per rebalance id (0 = nothing received).
    mapping(bytes32 rebalanceId => uint256 amount) public receivedOf;

    /// @notice The local route changed.
    event RouteSet(address indexed previousRoute, address indexed newRoute);
    /// @notice The peer adapter and route for `chainId` changed (zero = removed).
    event PeerSet(uint16 indexed chainId, bytes32 adapter, bytes32 route);
    /// @notice `amount` was burnt and published as Wormhole message `sequence` for `dstChain`.
    event WormholeSent(bytes32 indexed rebalanceId, uint64 indexed sequence, uint16 indexed dstChain, uint256 amount, bytes32 recipient, uint256 fee);
    /// @notice The VAA (`emitterChain`, `sequence`, hash `vmHash`) was redeemed: `amount` minted to the route.
    event WormholeReceived(bytes32 indexed rebalanceId, uint16 indexed emitterChain, uint64 indexed sequence, uint256 amount, bytes32 vmHash);

    /// @notice An address argument was the zero address.
    error ZeroAddress();
    /// @notice An amount argument was zero.
    error ZeroAmount();
    /// @notice `caller` is not the local route.
    error NotRoute(address caller);
    /// @notice No peer adapter and route are registered for `chainId` (or it is this chain).
    error NoPeer(uint16 chainId);
    /// @notice `msg.value` must equal the core's `messageFee()`.
    error WrongMessageFee(uint256 required, uint256 provided);
    /// @notice The core rejected the VAA (bad signature, unknown guardian set, malformed ...).
    error InvalidVaa(string reason);
    /// @notice The VAA's emitter is not the registered peer adapter of its chain.
    error UnknownEmitter(uint16 emitterChainId, bytes32 emitterAddress);
    /// @notice The VAA was already redeemed.
    error VaaAlreadyConsumed(bytes32 vmHash);
    /// @notice The payload is not `PAYLOAD_LENGTH` bytes.
    error InvalidPayloadLength(uint256 length);
    /// @notice The payload's version byte is not `PAYLOAD_VERSION`.
    error UnsupportedPayloadVersion(uint8 version);
    /// @notice The payload is for another chain.
    error WrongDestination(uint16 dstChain, uint16 thisChain);
    /// @notice The payload's recipient is not the local route.
    error WrongRecipient(bytes32 recipient, bytes32 expected);

    /**
     * @param wormhole_ The Wormhole core (proxy) on this chain.
     * @param token_ The Ballast token (must later `setWormholeAdapter(this)`).
     * @param owner_ Owner (sets the route and peers).
     * @param consistencyLevel_ Consistency level for published messages (1 = finalized).
     * @dev Reverts `ZeroAddress` for a zero core, token or owner.
     */
    constructor(address wormhole_, address token_, address owner_, uint8 consistencyLevel_) Ownable(owner_) {
        if (wormhole_ == address(0) || token_ == address(0)) revert ZeroAddress();
        wormhole = IWormhole(wormhole_);
        token = token_;
        wormholeChainId = IWormhole(wormhole_).chainId();
        consistencyLevel = consistencyLevel_;
    }

    // ------------------------------------------------------------------ admin

    /**
     * @notice Sets the local route (the only sender and the only recipient).
     * @dev Only the owner. Emits `RouteSet`.
     */
    function setRoute(address newRoute) external onlyOwner {
        emit RouteSet(route, newRoute);
        route = newRoute;
    }

    /**
     * @notice Registers the adapter and the route on Wormhole chain `chainId` (both left-padded to
     * 32 bytes); zeros remove them.
     * @dev Only the owner. Reverts `NoPeer(chainId)` for this chain's own id. Emits `PeerSet`.
     */
    function setPeer(uint16 chainId, bytes32 adapter, bytes32 peerRoute_) external onlyOwner {
        if (chainId == wormholeChainId) revert NoPeer(chainId);
        peerAdapter[chainId] = adapter;
        peerRoute[chainId] = peerRoute_;
        emit PeerSet(chainId, adapter, peerRoute_);
    }

    // ------------------------------------------------------------------ send

    /**
     * @notice Burns `amount` taken from the route and publishes a Wormhole message for `dstChain`.
     * @dev Only `route`, which must have approved `amount` to this adapter. `msg.value` must equal the
     * core's `messageFee()`. Reverts `NotRoute`, `ZeroAmount`, `NoPeer(dstChain)`,
     * `WrongMessageFee(required, provided)` and the token's ERC-20 errors. Emits `WormholeSent`.
     * @param rebalanceId The keeper's rebalance id (carried in the payload).
     * @param dstChain Destination Wormhole chain id.
     * @param amount Token base units.
     * @return sequence The core's sequence number of the message (this adapter as emitter).
     */
    function send(bytes32 rebalanceId, uint16 dstChain, uint256 amount) external payable returns (uint64 sequence) {
        if (msg.sender != route) revert NotRoute(msg.sender);
        if (amount == 0) revert ZeroAmount();
        bytes32 recipient = peerRoute[dstChain];
        if (recipient == bytes32(0) || peerAdapter[dstChain] == bytes32(0)) revert NoPeer(dstChain);
        uint256 fee = wormhole.messageFee();
        if (msg.value != fee) revert WrongMessageFee(fee, msg.value);

        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        IWormholeMintableToken(token).wormholeBurn(amount);
        bytes memory payload = abi.encodePacked(PAYLOAD_VERSION, rebalanceId, amount, dstChain, recipient);
        sequence = wormhole.publishMessage{ value: fee }(0, payload, consistencyLevel);
        emit WormholeSent(rebalanceId, sequence, dstChain, amount, recipient, fee);
    }

    // ------------------------------------------------------------------ receive

    /**
     * @notice Redeems a guardian-signed VAA from a peer adapter: mints its amount to the local route.
     * @dev Anyone may call (the VAA is the authorization). Checks, in order: the core verifies it
     * (`InvalidVaa(reason)`, also for a VAA the core cannot parse), the emitter is the registered peer
     * adapter of its chain (`UnknownEmitter`), it was not redeemed before (`VaaAlreadyConsumed`), the
     * payload layout (`InvalidPayloadLength`, `UnsupportedPayloadVersion`), it is for this chain
     * (`WrongDestination`) and for the local route (`WrongRecipient`). Emits `WormholeReceived`.
     * `receivedOf[rebalanceId]` adds the amount (rebalance ids are unique per send, so it normally
     * holds exactly the one message's amount).
     * @param encodedVm The serialized VAA (as served by the guardians' `/v1/signed_vaa/...`).
     * @return rebalanceId The payload's rebalance id.
     * @return amount The amount minted to the route.
     */
    function receiveMessage(bytes calldata encodedVm) external returns (bytes32 rebalanceId, uint256 amount) {
        IWormhole.VM memory vm = _verify(encodedVm);
        bytes32 expectedEmitter = peerAdapter[vm.emitterChainId];
        if (expectedEmitter == bytes32(0) || vm.emitterAddress != expectedEmitter) {
            revert UnknownEmitter(vm.emitterChainId, vm.emitterAddress);
        }
        if (consumed[vm.hash]) revert VaaAlreadyConsumed(vm.hash);

        uint16 dstChain;
        bytes32 recipient;
        (rebalanceId, amount, dstChain, recipient) = decodePayload(vm.payload);
        if (dstChain != wormholeChainId) revert WrongDestination(dstChain, wormholeChainId);
        address route_ = route;
        bytes32 expectedRecipient = bytes32(uint256(uint160(route_)));
        if (route_ == address(0) || recipient != expectedRecipient) revert WrongRecipient(recipient, expectedRecipient);

        consumed[vm.hash] = true;
        receivedOf[rebalanceId] += amount;
        emit WormholeReceived(rebalanceId, vm.emitterChainId, vm.sequence, amount, vm.hash);
        IWormholeMintableToken(token).wormholeMint(route_, amount);
    }

    // ------------------------------------------------------------------ views

    /// @notice Native fee `send` requires (`msg.value`), in wei: the core's `messageFee()`.
    function messageFee() external view returns (uint256) {
        return wormhole.messageFee();
    }

    /**
     * @notice Encodes a version-1 payload (see the layout in the contract docs).
     * @dev Pure helper for off-chain code and tests.
     */
    function encodePayload(
        bytes32 rebalanceId,
        uint256 amount,
        uint16 dstChain,
        bytes32 recipient
    ) external pure returns (bytes memory) {
        return abi.encodePacked(PAYLOAD_VERSION, rebalanceId, amount, dstChain, recipient);
    }

    /**
     * @notice Decodes a version-1 payload.
     * @dev Reverts `InvalidPayloadLength(length)` unless it is `PAYLOAD_LENGTH` bytes and
     * `UnsupportedPayloadVersion(version)` unless its first byte is `PAYLOAD_VERSION`.
     */
    function decodePayload(
        bytes memory payload
    ) public pure returns (bytes32 rebalanceId, uint256 amount, uint16 dstChain, bytes32 recipient) {
        if (payload.length != PAYLOAD_LENGTH) revert InvalidPayloadLength(payload.length);
        uint8 version = uint8(payload[0]);
        if (version != PAYLOAD_VERSION) revert UnsupportedPayloadVersion(version);
        // Memory layout: 32-byte length word, then the bytes; mload reads 32 bytes big-endian.
        assembly ("memory-safe") {
            let p := add(payload, 32)
            rebalanceId := mload(add(p, 1))
            amount := mload(add(p, 33))
            dstChain := shr(240, mload(add(p, 65)))
            recipient := mload(add(p, 67))
        }
    }

    /// @dev `parseAndVerifyVM`, with every rejection (invalid, or a revert while parsing) as `InvalidVaa`.
    function _verify(bytes calldata encodedVm) private view returns (IWormhole.VM memory vm) {
        bool valid;
        string memory reason;
        try wormhole.parseAndVerifyVM(encodedVm) returns (IWormhole.VM memory vm_, bool valid_, string memory reason_) {
            (vm, valid, reason) = (vm_, valid_, reason_);
        } catch Error(string memory parseError) {
            revert InvalidVaa(parseError);
        } catch {
            revert InvalidVaa("unparseable VAA");
        }
        if (!valid) revert InvalidVaa(reason);
    }
}
