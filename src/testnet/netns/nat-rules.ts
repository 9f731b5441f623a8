/**
 * The home gateway's nftables ruleset (loaded in the gateway's own namespace, so it goes when the namespace
 * goes): source NAT for everything leaving by the WAN side, and a forward policy that lets in only replies to
 * connections opened from the LAN. No port forwarding: nothing from outside can open a connection inwards.
 */
export function natRuleset(wan: string, lan: string): string {
  return `table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${wan}" masquerade random
  }
}
table inet filter {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "${lan}" oifname "${wan}" accept
  }
}
`
}
