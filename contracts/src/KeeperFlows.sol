// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { AccessControl } from "@openzeppelin/contracts/access/AccessControl.sol";

/**
 * @title KeeperFlows
 * @notice The keeper-facing half shared by every contract the Ballast keeper moves liquidity out of and
 * into through a `BallastRoute` (`CollateralVault`, `AaveAllocator`), so both expose the same keeper ABI:
 *
 * - The keeper (`KEEPER_ROLE`) may only send liquidity to the configured `route` (the derived contract's
 *   `withdrawToRoute`), bounded by a fixed-window outflow cap, and each rebalance id is usable once
 *   (`outflowOf`). A stolen keeper key can therefore move at most `maxOutflowPerWindow` per window, and
 *   only to the route.
 * - Only the route can bring liquidity back (the derived contract's `depositFromRoute`); each rebalance
 *   id once (`inflowOf`).
 * - The admin (`DEFAULT_ADMIN_ROLE`) sets the route (`setRoute`), the cap (`setOutflowCap`) and can pause
 *   keeper flows in either direction (`setKeeperFlowsPaused`).
 * - Every keeper flow is also totalled: `cumulativeWithdrawnToRoute` (Σ outflows to the route) and
 *   `cumulativeDepositedFromRoute` (Σ inflows from the route), so the keeper's net outflow from this
 *   contract, `cumulativeWithdrawnToRoute − cumulativeDepositedFromRoute`, is one read, whatever the
 *   derived contract (the deployment ledger's keeper-flow conservation, ledger/treasury.ts, sums it
 *   over every chain against the routes' balances).
 *
 * @dev A derived contract writes `withdrawToRoute` as `onlyRole(KEEPER_ROLE)` + `_takeOutflow` + its own
 * accounting and transfer, and `depositFromRoute` as `_takeInflow` + its own accounting and pull. It may
 * override `_checkOutflowAvailable` to refuse an outflow it cannot fund; that check runs after the
 * pause check and before the cap, so the revert order is the same in every derived contract.
 * The outflow cap starts at 0 (no constructor sets it): nothing can leave through the keeper until the
 * admin calls `setOutflowCap`. The two cumulative counters are updated by `_takeOutflow` / `_takeInflow`
 * with the amount the derived contract must then move exactly (or revert, which undoes the count too).
 */
abstract contract KeeperFlows is AccessControl {
    /// @notice Role allowed to call `withdrawToRoute` (and whatever else a derived contract opens to it).
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");

    /// @notice Amount sent to the route per rebalance id (0 = id unused for outflows).
    mapping(bytes32 rebalanceId => uint256 amount) public outflowOf;
    /// @notice Amount received from the route per rebalance id (0 = id unused for inflows).
    mapping(bytes32 rebalanceId => uint256 amount) public inflowOf;

    /// @notice Σ asset sent to the route by the keeper (`withdrawToRoute`), cumulative, base units:
    /// Σ `outflowOf` over every rebalance id (leg keys included). Never decreases.
    uint256 public cumulativeWithdrawnToRoute;
    /// @notice Σ asset received from the route (`depositFromRoute`), cumulative, base units:
    /// Σ `inflowOf` over every rebalance id (leg keys included). Never decreases.
    uint256 public cumulativeDepositedFromRoute;

    /// @notice The only contract keeper outflows can go to and inflows can come from.
    address public route;
    /// @notice When true, `withdrawToRoute` reverts.
    bool public outflowPaused;
    /// @notice When true, `depositFromRoute` reverts.
    bool public inflowPaused;

    uint256 private _maxOutflowPerWindow;
    uint64 private _windowSec;
    uint64 private _windowStart;
    uint256 private _outflowInWindow;

    /// @notice The keeper sent `amount` to `route` for `rebalanceId`; `outflowInWindow` is the window's usage after it.
    event WithdrawnToRoute(bytes32 indexed rebalanceId, address indexed route, uint256 amount, uint256 outflowInWindow);
    /// @notice `route` deposited `amount` for `rebalanceId`.
    event DepositedFromRoute(bytes32 indexed rebalanceId, address indexed route, uint256 amount);
    /// @notice The route changed from `previousRoute` to `newRoute`.
    event RouteSet(address indexed previousRoute, address indexed newRoute);
    /// @notice The outflow cap changed.
    event OutflowCapSet(uint256 maxOutflowPerWindow, uint64 windowSec);
    /// @notice Keeper flows were paused or resumed.
    event KeeperFlowsPausedSet(bool outflowPaused, bool inflowPaused);

    /// @notice An address argument was the zero address.
    error ZeroAddress();
    /// @notice An amount argument was zero.
    error ZeroAmount();
    /// @notice The rebalance id was already used for this direction.
    error RebalanceIdUsed(bytes32 rebalanceId);
    /// @notice Keeper outflows are paused.
    error OutflowPaused();
    /// @notice Keeper inflows are paused.
    error InflowPaused();
    /// @notice The outflow would exceed what is left of the current window's cap.
    error OutflowCapExceeded(uint256 requested, uint256 remaining);
    /// @notice No route is configured.
    error RouteNotSet();
    /// @notice Caller is not the configured route.
    error NotRoute(address caller);

    // ------------------------------------------------------------------ admin

    /**
     * @notice Sets the route contract (zero disables keeper flows).
     * @dev Only `DEFAULT_ADMIN_ROLE`. Emits `RouteSet`.
     */
    function setRoute(address newRoute) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit RouteSet(route, newRoute);
        route = newRoute;
    }

    /**
     * @notice Sets the outflow cap: at most `maxOutflowPerWindow` per fixed window of `windowSec` seconds.
     * @dev Only `DEFAULT_ADMIN_ROLE`. Usage already counted in the current window is kept. Emits `OutflowCapSet`.
     */
    function setOutflowCap(uint256 maxOutflowPerWindow, uint64 windowSec) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _maxOutflowPerWindow = maxOutflowPerWindow;
        _windowSec = windowSec;
        emit OutflowCapSet(maxOutflowPerWindow, windowSec);
    }

    /**
     * @notice Pauses or resumes keeper outflows and inflows independently.
     * @dev Only `DEFAULT_ADMIN_ROLE`. Emits `KeeperFlowsPausedSet`.
     */
    function setKeeperFlowsPaused(bool outflowPaused_, bool inflowPaused_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        outflowPaused = outflowPaused_;
        inflowPaused = inflowPaused_;
        emit KeeperFlowsPausedSet(outflowPaused_, inflowPaused_);
    }

    // ------------------------------------------------------------------ views

    /**
     * @notice The outflow cap and the current window's state.
     * @return maxOutflowPerWindow Cap per window, asset base units.
     * @return windowSec Window length in seconds.
     * @return outflowInWindow Used in the current window; 0 if the window has expired.
     * @return windowStart Start of the last window (unix seconds).
     */
    function outflowCap()
        external
        view
        returns (uint256 maxOutflowPerWindow, uint64 windowSec, uint256 outflowInWindow, uint64 windowStart)
    {
        bool expired = block.timestamp >= uint256(_windowStart) + _windowSec;
        return (_maxOutflowPerWindow, _windowSec, expired ? 0 : _outflowInWindow, _windowStart);
    }

    // ------------------------------------------------------------------ internal

    /**
     * @notice Checks and records a keeper outflow of `amount` for `rebalanceId`; the caller then does its
     * own accounting and moves `amount` to `route_`.
     * @dev Does not check the caller's role (the derived `withdrawToRoute` is `onlyRole(KEEPER_ROLE)`).
     * The outflow cap is a fixed window: once `windowSec` has passed since the window started, a new
     * window starts at this block with nothing used. Reverts, in this order, `ZeroAmount`, `RouteNotSet`,
     * `RebalanceIdUsed(rebalanceId)`, `OutflowPaused`, whatever `_checkOutflowAvailable(amount)` reverts
     * with, `OutflowCapExceeded(requested, remaining)`. Adds `amount` to the window's usage and to
     * `cumulativeWithdrawnToRoute`, records `outflowOf[rebalanceId] = amount` and emits `WithdrawnToRoute`.
     * The caller must then move exactly `amount` to `route_` or revert (which also undoes the count).
     * @param rebalanceId The rebalance id (once per contract for outflows).
     * @param amount Asset base units, > 0.
     * @return route_ The configured route, where the caller must send `amount`.
     */
    function _takeOutflow(bytes32 rebalanceId, uint256 amount) internal returns (address route_) {
        if (amount == 0) revert ZeroAmount();
        route_ = route;
        if (route_ == address(0)) revert RouteNotSet();
        if (outflowOf[rebalanceId] != 0) revert RebalanceIdUsed(rebalanceId);
        if (outflowPaused) revert OutflowPaused();
        _checkOutflowAvailable(amount);

        if (block.timestamp >= uint256(_windowStart) + _windowSec) {
            _windowStart = uint64(block.timestamp);
            _outflowInWindow = 0;
        }
        uint256 used = _outflowInWindow;
        uint256 remaining = _maxOutflowPerWindow > used ? _maxOutflowPerWindow - used : 0;
        if (amount > remaining) revert OutflowCapExceeded(amount, remaining);

        _outflowInWindow = used + amount;
        outflowOf[rebalanceId] = amount;
        cumulativeWithdrawnToRoute += amount;
        emit WithdrawnToRoute(rebalanceId, route_, amount, used + amount);
    }

    /**
     * @notice Checks and records an inflow of `amount` for `rebalanceId` from the caller, which must be
     * the configured route; the derived contract then does its own accounting and pulls `amount` from it.
     * @dev Reverts, in this order, `NotRoute(caller)` (also when no route is set), `ZeroAmount`,
     * `InflowPaused`, `RebalanceIdUsed(rebalanceId)`. Records `inflowOf[rebalanceId] = amount`, adds
     * `amount` to `cumulativeDepositedFromRoute` and emits `DepositedFromRoute` with `msg.sender` as the
     * route. The caller must then pull exactly `amount` from the route or revert (undoing the count).
     * @param rebalanceId The rebalance id (once per contract for inflows).
     * @param amount Asset base units, > 0.
     */
    function _takeInflow(bytes32 rebalanceId, uint256 amount) internal {
        if (msg.sender != route || msg.sender == address(0)) revert NotRoute(msg.sender);
        if (amount == 0) revert ZeroAmount();
        if (inflowPaused) revert InflowPaused();
        if (inflowOf[rebalanceId] != 0) revert RebalanceIdUsed(rebalanceId);
        inflowOf[rebalanceId] = amount;
        cumulativeDepositedFromRoute += amount;
        emit DepositedFromRoute(rebalanceId, msg.sender, amount);
    }

    /**
     * @notice Hook of `_takeOutflow`: reverts when this contract cannot fund an outflow of `amount`.
     * @dev Runs after the id and pause checks and before the outflow cap (the window is not touched
     * yet). The default accepts everything (e.g. `AaveAllocator` leaves the check to Aave).
     * @param amount The requested outflow, asset base units, > 0.
     */
    function _checkOutflowAvailable(uint256 amount) internal view virtual {}
}
