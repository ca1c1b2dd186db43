export declare const WEB_BUILD_INPUTS: string[];
export declare function newestSourceMtime(entry: string): number;
export declare function webBuildIsStale(root: string): boolean;
