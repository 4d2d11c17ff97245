import Foundation

/// Where the store lives when no path is given: `$FEWSHOT_STORE`, else
/// `$XDG_DATA_HOME/fewshot/fewshot.sqlite`, else `~/.local/share/fewshot/fewshot.sqlite`.
public enum StoreLocation {
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["FEWSHOT_STORE"], !explicit.isEmpty { return explicit }
        let dataHome: String
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            dataHome = xdg
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            dataHome = (home as NSString).appendingPathComponent(".local/share")
        }
        return ((dataHome as NSString).appendingPathComponent("fewshot") as NSString).appendingPathComponent("fewshot.sqlite")
    }

    /// `explicit` (from `--store`) if given, else ``defaultPath(environment:)``.
    public static func resolve(_ explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        return defaultPath(environment: environment)
    }
}
