// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { Ownable } from "@openzeppelin/contracts/access/Ownable.sol";
import { OFT } from "@layerzerolabs/oft-evm/contracts/OFT.sol";

/**
 * @title BallastToken
 * @notice Devnet stablecoin for Ballast: a LayerZero v2 OFT (burn on the source chain, mint on the
 * destination) with 6 decimals. Shared decimals are also 6, so the OFT decimal conversion rate is 1
 * and no amount ever loses dust in transit.
 * @dev The owner doubles as the OApp delegate on the endpoint and may mint freely (devnet faucet).
 * A second bridge, Wormhole, moves the same token by burn and mint through one owner-set
 * `wormholeAdapter`: it may mint to anyone (after verifying a VAA) and burn only its own balance, so
 * it can never take tokens from a holder. The OFT path is unchanged.
 */
contract BallastToken is OFT {
    /// @notice The only address allowed to `wormholeMint` and `wormholeBurn` (zero = none).
    address public wormholeAdapter;

    /// @notice The Wormhole adapter changed.
    event WormholeAdapterSet(address indexed previousAdapter, address indexed newAdapter);

    /// @notice `caller` is not the Wormhole adapter.
    error NotWormholeAdapter(address caller);

    /**
     * @param name ERC-20 name.
     * @param symbol ERC-20 symbol.
     * @param lzEndpoint The local LayerZero EndpointV2.
     * @param owner Owner of the token (mint, peers) and OApp delegate on the endpoint.
     */
    constructor(
        string memory name,
        string memory symbol,
        address lzEndpoint,
        address owner
    ) OFT(name, symbol, lzEndpoint, owner) Ownable(owner) {}

    /**
     * @notice Token decimals: always 6 (USDC-like), equal to the OFT shared decimals.
     */
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /**
     * @notice Mints `amount` base units to `to` (devnet faucet).
     * @dev Only the owner may call. Reverts `OwnableUnauthorizedAccount` for anyone else and
     * `ERC20InvalidReceiver` when `to` is the zero address. Emits `Transfer(0, to, amount)`.
     * @param to Recipient of the new tokens.
     * @param amount Amount in base units (6 decimals).
     */
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /**
     * @notice Sets the Wormhole adapter allowed to mint and burn; zero disables the Wormhole route.
     * @dev Only the owner. Emits `WormholeAdapterSet`.
     * @param newAdapter The `WormholeAdapter` on this chain.
     */
    function setWormholeAdapter(address newAdapter) external onlyOwner {
        emit WormholeAdapterSet(wormholeAdapter, newAdapter);
        wormholeAdapter = newAdapter;
    }

    /**
     * @notice Mints `amount` to `to` for a verified Wormhole message.
     * @dev Only `wormholeAdapter`; reverts `NotWormholeAdapter(caller)` for anyone else and
     * `ERC20InvalidReceiver` for the zero address. Emits `Transfer(0, to, amount)`.
     */
    function wormholeMint(address to, uint256 amount) external {
        if (msg.sender != wormholeAdapter) revert NotWormholeAdapter(msg.sender);
        _mint(to, amount);
    }

    /**
     * @notice Burns `amount` of the adapter's own balance (tokens leaving over Wormhole).
     * @dev Only `wormholeAdapter`; reverts `NotWormholeAdapter(caller)` for anyone else and
     * `ERC20InsufficientBalance` when the adapter holds less. Emits `Transfer(adapter, 0, amount)`.
     */
    function wormholeBurn(uint256 amount) external {
        if (msg.sender != wormholeAdapter) revert NotWormholeAdapter(msg.sender);
        _burn(msg.sender, amount);
    }
}
