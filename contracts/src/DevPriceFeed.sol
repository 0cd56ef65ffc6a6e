// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { Ownable } from "@openzeppelin/contracts/access/Ownable.sol";
import { AggregatorV3Interface } from "./interfaces/AggregatorV3Interface.sol";

/**
 * @title DevPriceFeed
 * @notice A Chainlink-compatible price feed whose rounds are written by its owner, so the devnet can
 * replay real price history (including stale or out-of-order rounds) to the keeper.
 * @dev The latest round is the one with the highest round id written so far.
 */
contract DevPriceFeed is AggregatorV3Interface, Ownable {
    struct Round {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
        uint80 answeredInRound;
    }

    uint8 private immutable _decimals;
    string private _description;
    uint80 private _latestRoundId;
    mapping(uint80 roundId => Round) private _rounds;

    /// @notice Round `roundId` was written.
    event RoundSet(uint80 indexed roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice Round id 0 is reserved for "no round".
    error InvalidRoundId();
    /// @notice Round `roundId` was never written.
    error RoundNotFound(uint80 roundId);
    /// @notice No round was written yet.
    error NoRoundData();

    /**
     * @param decimals_ Decimals of the answers (8 for Chainlink USD pairs).
     * @param description_ Pair description, e.g. "ETH / USD".
     * @param owner Account allowed to write rounds.
     */
    constructor(uint8 decimals_, string memory description_, address owner) Ownable(owner) {
        _decimals = decimals_;
        _description = description_;
    }

    /**
     * @notice Writes (or overwrites) round `roundId`; it becomes the latest if its id is the highest so far.
     * @dev Only the owner may call (`OwnableUnauthorizedAccount` otherwise). Reverts `InvalidRoundId`
     * when `roundId` is 0. Emits `RoundSet`.
     */
    function setRound(
        uint80 roundId,
        int256 answer,
        uint256 startedAt,
        uint256 updatedAt,
        uint80 answeredInRound
    ) external onlyOwner {
        if (roundId == 0) revert InvalidRoundId();
        _rounds[roundId] = Round(answer, startedAt, updatedAt, answeredInRound);
        if (roundId > _latestRoundId) _latestRoundId = roundId;
        emit RoundSet(roundId, answer, startedAt, updatedAt, answeredInRound);
    }

    /**
     * @inheritdoc AggregatorV3Interface
     * @dev Anyone may call. Reverts `NoRoundData` when no round was written.
     */
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        if (_latestRoundId == 0) revert NoRoundData();
        return _round(_latestRoundId);
    }

    /**
     * @inheritdoc AggregatorV3Interface
     * @dev Anyone may call. Reverts `RoundNotFound(roundId)` for a round never written.
     */
    function getRoundData(
        uint80 roundId
    )
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        if (_rounds[roundId].updatedAt == 0 && _rounds[roundId].startedAt == 0 && _rounds[roundId].answer == 0) {
            revert RoundNotFound(roundId);
        }
        return _round(roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function decimals() external view returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    function _round(
        uint80 roundId
    ) private view returns (uint80, int256, uint256, uint256, uint80) {
        Round storage r = _rounds[roundId];
        return (roundId, r.answer, r.startedAt, r.updatedAt, r.answeredInRound);
    }
}
