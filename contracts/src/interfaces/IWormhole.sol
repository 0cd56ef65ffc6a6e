// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title IWormhole
 * @notice The part of Wormhole's core contract (the `Wormhole` proxy over `Implementation`) that
 * Ballast uses, with the same selectors and struct layout as `wormhole/ethereum/contracts/interfaces/IWormhole.sol`
 * (written here to avoid a dependency).
 */
interface IWormhole {
    /// @notice One guardian signature over the VAA body's double keccak256.
    struct Signature {
        bytes32 r;
        bytes32 s;
        uint8 v;
        uint8 guardianIndex;
    }

    /// @notice A parsed VAA (Verified Action Approval).
    struct VM {
        uint8 version;
        uint32 timestamp;
        uint32 nonce;
        uint16 emitterChainId;
        bytes32 emitterAddress;
        uint64 sequence;
        uint8 consistencyLevel;
        bytes payload;
        uint32 guardianSetIndex;
        Signature[] signatures;
        bytes32 hash;
    }

    /// @notice Emitted by the core for every published message (the guardians observe it).
    event LogMessagePublished(address indexed sender, uint64 sequence, uint32 nonce, bytes payload, uint8 consistencyLevel);

    /**
     * @notice Publishes `payload` with the caller as emitter; `msg.value` must equal `messageFee()`.
     * @return sequence The emitter's sequence number of this message (0 for its first).
     */
    function publishMessage(uint32 nonce, bytes memory payload, uint8 consistencyLevel) external payable returns (uint64 sequence);

    /**
     * @notice Parses `encodedVM` and verifies its signatures against the guardian set it names.
     * @return vm The parsed VAA; valid Whether the quorum of signatures is valid; reason Why not.
     */
    function parseAndVerifyVM(bytes calldata encodedVM) external view returns (VM memory vm, bool valid, string memory reason);

    /// @notice Native fee `publishMessage` requires, in wei.
    function messageFee() external view returns (uint256);

    /// @notice This chain's Wormhole chain id (e.g. 2 = Ethereum, 23 = Arbitrum, 30 = Base).
    function chainId() external view returns (uint16);
}
