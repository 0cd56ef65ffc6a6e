// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { IPool } from "@aave/core-v3/contracts/interfaces/IPool.sol";
import { IAToken } from "@aave/core-v3/contracts/interfaces/IAToken.sol";
import { KeeperFlows } from "./KeeperFlows.sol";

/**
 * @title AaveAllocator
 * @notice Holds a treasury's liquidity on one chain as aTokens of a real Aave v3 market (after the
 * Spark ALM model: this contract is the ALM proxy holding the aTokens and, at the same time, the
 * rate-limited controller the keeper calls), and exposes the SAME keeper-facing ABI as
 * `CollateralVault` for the collateral legs, so the keeper moves liquidity between chains through a
 * `BallastRoute` unchanged:
 *
 * - `withdrawToRoute(rebalanceId, amount)` = `pool.withdraw(asset, amount, route)`: `KEEPER_ROLE` only,
 *   funds go only to the configured route, bounded by a fixed-window outflow cap, each id once
 *   (`outflowOf`). A stolen keeper key can therefore move at most `maxOutflowPerWindow` per window, and
 *   only to the route. The keeper role can call nothing else that writes.
 * - `depositFromRoute(rebalanceId, amount)`: only the route (as `BallastRoute.depositToVault` calls
 *   it); pulls `amount` from the route like `CollateralVault` does, then `pool.supply(asset, amount,
 *   this, 0)`; each id once (`inflowOf`).
 * - The treasury enters with `supply` (admin or `TREASURER_ROLE`) and the admin exits with `withdraw`.
 * - The admin (`DEFAULT_ADMIN_ROLE`) sets the route, the cap and can pause keeper flows.
 * The keeper-facing part (route, cap, pause flags, once-per-id bookkeeping, the cumulative keeper-flow
 * counters `cumulativeWithdrawnToRoute` / `cumulativeDepositedFromRoute`, their events and errors) is
 * `KeeperFlows`, the base `CollateralVault` shares, so the two keeper ABIs cannot drift apart.
 *
 * Ledger: `principal()` = Σ `supply` + Σ `depositFromRoute` − Σ `withdraw` − Σ `withdrawToRoute`, in
 * underlying base units, exact (it counts the underlying amounts moved, which Aave moves exactly; see
 * below). `suppliedBalance()` is the aToken balance, which grows with Aave's liquidity index, so
 * `suppliedBalance() − principal()` is the interest earned (up to the rounding dust below).
 *
 * Rounding (Aave ray math, as in Aave core-v3 1.19.3, the npm package this repo pins; checked in
 * `ScaledBalanceTokenBase`, `AToken.burn`, `SupplyLogic.executeWithdraw` and `WadRayMath`): an aToken
 * stores a *scaled* balance; `balanceOf = scaledBalance.rayMul(liquidityIndex)`. `supply(amount)`
 * mints `amount.rayDiv(index)` scaled units and `withdraw(amount)` burns `amount.rayDiv(index)` scaled
 * units, where in this version both `rayDiv` and `rayMul` round half up (to nearest; other Aave
 * versions may round differently, e.g. up on burns). The underlying moved is exactly `amount` in
 * both directions (`supply` pulls `amount`; `withdraw` has the aToken `safeTransfer` exactly `amount`
 * to the recipient and returns it). So each supply or withdrawal can change `suppliedBalance()` by
 * `amount` ± 1 wei while the index is below 2 ray (in general by at most ⌊index/2⌋ + 1 wei), and
 * these dust differences accumulate over operations. They are NOT in `principal()`, which stays exact
 * in underlying terms; they show up in `suppliedBalance() − principal()`, which can therefore be off
 * by a few wei and, right after a supply with no interest accrued yet, even be −1 (read it as a
 * signed number). For the same reason withdrawing exactly `principal()` can fail with Aave's
 * `NOT_ENOUGH_AVAILABLE_USER_BALANCE` ('32') when the aToken balance rounded below it.
 *
 * Aave's own limits are surfaced as they are, never caught: a withdrawal above the reserve's
 * available liquidity (the underlying held by the aToken, the rest being borrowed out) reverts inside
 * Aave (in 1.19.3 with a `Panic(0x11)` underflow in the interest-rate strategy when the reserve has
 * debt, or the underlying token's insufficient-balance error when it has none); a paused/frozen
 * reserve or a supply cap reverts with Aave's error string.
 */
contract AaveAllocator is KeeperFlows {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to `supply` treasury funds (the admin may too).
    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");

    IPool private immutable _pool;
    IERC20 private immutable _asset;
    IAToken private immutable _aToken;

    /// @notice Σ underlying supplied by the treasury through `supply`, cumulative, base units.
    uint256 public cumulativeSupplied;
    /// @notice Σ underlying withdrawn by the admin through `withdraw`, cumulative, base units.
    uint256 public cumulativeWithdrawn;
    // The keeper's two counters, `cumulativeWithdrawnToRoute` (Σ `withdrawToRoute`, underlying base units) and
    // `cumulativeDepositedFromRoute` (Σ `depositFromRoute`), are `KeeperFlows`' (shared with `CollateralVault`).

    /// @notice `account` supplied `amount` of the treasury's asset to Aave through this allocator.
    event Supplied(address indexed account, uint256 amount);
    /// @notice The admin `account` withdrew `amount` of the underlying from Aave to `to`.
    event WithdrawnTo(address indexed account, address indexed to, uint256 amount);

    /// @notice `asset` has no Aave reserve in the pool (its `aTokenAddress` is zero).
    error ReserveNotListed(address asset);
    /// @notice Aave moved a different amount than requested (`requested`), or the route received less
    /// (`received`); never expected with a standard ERC-20 reserve.
    error WithdrawalMismatch(uint256 requested, uint256 received);

    /**
     * @param pool_ The Aave v3 `Pool` (proxy) of the market.
     * @param asset_ The reserve's underlying ERC-20 (the Ballast OFT on the devnet).
     * @param admin Receives `DEFAULT_ADMIN_ROLE`.
     * @dev Reads the aToken from `pool_.getReserveData(asset_).aTokenAddress`. Reverts `ZeroAddress`
     * if any argument is zero, `ReserveNotListed(asset)` if the pool has no reserve for it. The outflow
     * cap starts at 0: nothing can leave through the keeper until the admin calls `setOutflowCap`.
     */
    constructor(IPool pool_, IERC20 asset_, address admin) {
        if (address(pool_) == address(0) || address(asset_) == address(0) || admin == address(0)) revert ZeroAddress();
        address aToken_ = pool_.getReserveData(address(asset_)).aTokenAddress;
        if (aToken_ == address(0)) revert ReserveNotListed(address(asset_));
        _pool = pool_;
        _asset = asset_;
        _aToken = IAToken(aToken_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ treasury

    /**
     * @notice Pulls `amount` of the asset from the caller (needs a prior ERC-20 approval to this
     * contract) and supplies it to Aave on behalf of this allocator.
     * @dev Only `TREASURER_ROLE` or `DEFAULT_ADMIN_ROLE` (`AccessControlUnauthorizedAccount(caller,
     * TREASURER_ROLE)` otherwise). Reverts `ZeroAmount`, the token's error if the transfer fails, and
     * Aave's errors (reserve inactive/paused/frozen, supply cap). Adds `amount` to `principal()`.
     * Emits `Supplied`.
     */
    function supply(uint256 amount) external {
        if (!hasRole(TREASURER_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, TREASURER_ROLE);
        }
        if (amount == 0) revert ZeroAmount();
        cumulativeSupplied += amount;
        emit Supplied(msg.sender, amount);
        _asset.safeTransferFrom(msg.sender, address(this), amount);
        _supplyToAave(amount);
    }

    /**
     * @notice Withdraws `amount` of the underlying from Aave to `to` (the treasury's exit).
     * @dev Only `DEFAULT_ADMIN_ROLE`. Not affected by the keeper pause flags nor the outflow cap.
     * `amount = type(uint256).max` withdraws the whole aToken balance (Aave's convention) and records
     * what Aave actually withdrew. Reverts `ZeroAmount`, `ZeroAddress`, and Aave's errors as they are
     * (e.g. `'32'` NOT_ENOUGH_AVAILABLE_USER_BALANCE, or a revert when the reserve's available liquidity
     * is below `amount`). Subtracts the amount from `principal()`. Emits `WithdrawnTo`.
     * @return withdrawn The underlying amount sent to `to` (= `amount` unless `amount` was the max).
     */
    function withdraw(uint256 amount, address to) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 withdrawn) {
        if (amount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        withdrawn = _pool.withdraw(address(_asset), amount, to);
        if (amount != type(uint256).max && withdrawn != amount) revert WithdrawalMismatch(amount, withdrawn);
        cumulativeWithdrawn += withdrawn;
        emit WithdrawnTo(msg.sender, to, withdrawn);
    }

    // ------------------------------------------------------------------ keeper / route

    /**
     * @notice Withdraws `amount` of the underlying from Aave straight to the configured route for
     * rebalance `rebalanceId` (`pool.withdraw(asset, amount, route)`).
     * @dev Only `KEEPER_ROLE`. The outflow cap is a fixed window: once `windowSec` has passed since
     * the window started, a new window starts at this block with nothing used.
     * Reverts `ZeroAmount`, `RouteNotSet`, `RebalanceIdUsed(rebalanceId)`, `OutflowPaused`,
     * `OutflowCapExceeded(requested, remaining)` (`KeeperFlows._takeOutflow`, with no availability
     * check of its own), then Aave's errors as they are (a withdrawal above this allocator's aToken
     * balance or the reserve's available liquidity reverts inside Aave), and
     * `WithdrawalMismatch(requested, received)` if the route received less than `amount` (Aave
     * transfers exactly `amount`; checked on the route's balance so the ledger stays exact).
     * Emits `WithdrawnToRoute`.
     */
    function withdrawToRoute(bytes32 rebalanceId, uint256 amount) external onlyRole(KEEPER_ROLE) {
        address route_ = _takeOutflow(rebalanceId, amount); // counts `amount` in cumulativeWithdrawnToRoute

        uint256 before = _asset.balanceOf(route_);
        uint256 withdrawn = _pool.withdraw(address(_asset), amount, route_);
        uint256 received = _asset.balanceOf(route_) - before;
        if (withdrawn != amount || received < amount) revert WithdrawalMismatch(amount, received);
    }

    /**
     * @notice Pulls `amount` from the route (which must have approved this allocator, as
     * `BallastRoute.depositToVault` does) for `rebalanceId` and supplies it to Aave.
     * @dev Only the configured route (`NotRoute(caller)` otherwise). Reverts `ZeroAmount`,
     * `InflowPaused`, `RebalanceIdUsed(rebalanceId)` (`KeeperFlows._takeInflow`), the token's error if
     * the transfer fails, and Aave's supply errors (reserve paused/frozen, supply cap) as they are. Adds
     * `amount` to `principal()`. Emits `DepositedFromRoute`.
     */
    function depositFromRoute(bytes32 rebalanceId, uint256 amount) external {
        _takeInflow(rebalanceId, amount); // counts `amount` in cumulativeDepositedFromRoute
        _asset.safeTransferFrom(msg.sender, address(this), amount);
        _supplyToAave(amount);
    }

    // ------------------------------------------------------------------ views

    /// @notice The Aave v3 `Pool` this allocator supplies to.
    function pool() external view returns (address) {
        return address(_pool);
    }

    /// @notice The underlying asset (the reserve's ERC-20).
    function asset() external view returns (address) {
        return address(_asset);
    }

    /// @notice The reserve's aToken, read from the pool at construction.
    function aToken() external view returns (address) {
        return address(_aToken);
    }

    /**
     * @notice This allocator's aToken balance (underlying base units, grows with Aave's liquidity
     * index): what it could withdraw if the reserve had the liquidity.
     * @dev `aToken.balanceOf(this)` = scaled balance `rayMul` the current normalized income; may differ
     * from the amounts moved by rounding dust (see the contract NatSpec).
     */
    function suppliedBalance() public view returns (uint256) {
        return _aToken.balanceOf(address(this));
    }

    /**
     * @notice Net underlying put into Aave through this allocator: Σ `supply` + Σ `depositFromRoute`
     * − Σ `withdraw` − Σ `withdrawToRoute`, base units, exact. `suppliedBalance() − principal()` is
     * the interest earned (± rounding dust, read it as a signed number).
     * @dev Saturates at 0 when more was taken out than put in (interest withdrawn); the exact signed
     * value is always `cumulativeSupplied + cumulativeDepositedFromRoute − cumulativeWithdrawn −
     * cumulativeWithdrawnToRoute`.
     */
    function principal() public view returns (uint256) {
        uint256 added = cumulativeSupplied + cumulativeDepositedFromRoute;
        uint256 removed = cumulativeWithdrawn + cumulativeWithdrawnToRoute;
        return added > removed ? added - removed : 0;
    }

    /**
     * @notice What a withdrawal can take right now: the smaller of `suppliedBalance()` and the reserve's
     * available liquidity (the underlying held by the aToken; the rest is borrowed out).
     * @dev Informational, for the keeper's planning; `withdrawToRoute` does not check it (Aave does).
     */
    function idle() external view returns (uint256) {
        uint256 balance = suppliedBalance();
        uint256 liquidity = _asset.balanceOf(address(_aToken));
        return balance < liquidity ? balance : liquidity;
    }

    /// @dev Approves exactly `amount` to the pool and supplies it on behalf of this allocator.
    function _supplyToAave(uint256 amount) private {
        _asset.forceApprove(address(_pool), amount);
        _pool.supply(address(_asset), amount, address(this), 0);
    }
}
